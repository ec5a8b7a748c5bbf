"""``esb replay`` and ``esb report`` through the real command, on a gateway's real database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.support.cli import esb
from tests.support.gateway import GatewayUnderTest, rest_interface, write_config
from tests.support.target import TargetServer


def command_env(gut: GatewayUnderTest) -> dict[str, str]:
    """The environment that points a command at this gateway's database and files."""
    env = {"ESB_CONFIG": str(gut.settings.config), "ESB_DATA_DIR": str(gut.settings.data_dir)}
    if gut.settings.database_url:
        env["ESB_DATABASE_URL"] = gut.settings.database_url
    return env


REPLAY_SAYS = {
    "en": ("replayed {} (was parked, now pending)",
           "2 deliveries queued again; a running gateway picks them up",
           "not replayed {0}: delivery {0} is delivered", "0 deliveries queued again"),
    "zh": ("已重放 {}（原为 parked，现为 pending）",  # noqa: RUF001
           "2 次投递已重新排队；运行中的网关会接着处理",  # noqa: RUF001
           "未重放 {0}：delivery {0} is delivered", "0 次投递已重新排队"),  # noqa: RUF001
}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_replay_all_parked_says_what_each_was(
    lang: str, make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    done, queued, refused, none_queued = REPLAY_SAYS[lang]
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    target.script.extend([400, 400])
    parked = []
    for n in (1, 2):
        accepted = await gut.send("sales_order", {"OrderNo": f"SO-RP{n}"})
        parked.append(await gut.wait_status(accepted.json()["id"], "parked"))
    ids = [m["deliveries"][0]["id"] for m in parked]

    # in a thread: the embedded gateway shares this loop and must go on meanwhile
    result = await asyncio.to_thread(
        esb, "replay", "--all-parked", "--reason", "MES fixed", "--operator", "li",
        env=command_env(gut), cwd=tmp_path, lang=lang,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sorted(lines[:2]) == sorted(done.format(i) for i in ids)
    assert lines[2] == queued
    for message in parked:
        await gut.wait_status(message["id"], "delivered")
    audit = (await gut.message(parked[0]["id"]))["audit"]
    assert [(a["actor"], a["reason"]) for a in audit] == [("cli:li", "MES fixed")]

    again = await asyncio.to_thread(
        esb, "replay", ids[0], "--reason", "twice", env=command_env(gut), cwd=tmp_path, lang=lang
    )
    assert again.returncode == 1
    assert "Traceback" not in again.stderr
    assert refused.format(ids[0]) in again.stderr
    assert none_queued in again.stdout


async def test_report_reads_the_gateway_it_is_pointed_at(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    accepted = await gut.send("sales_order", {"OrderNo": "SO-REP1"})
    await gut.wait_status(accepted.json()["id"], "delivered")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = await asyncio.to_thread(
        esb, "report", "--window", "1h", "--json", env=command_env(gut), cwd=elsewhere
    )
    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)["interfaces"]
    assert (row["interface"], row["target"], row["delivered"]) == ("sales-order", "mes", 1)
    assert list(elsewhere.iterdir()) == []
