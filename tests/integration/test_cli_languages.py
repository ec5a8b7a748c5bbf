"""``esb report`` in Chinese and English, through the real command on a real gateway.

The language is ``--lang``, else ESB_LANG, else the locale; an unknown one is refused by
name. The table's columns line up in both (a Chinese character takes two columns of a
terminal), and ``--json`` is the same whatever the language.
"""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_cli_operate import command_env
from tests.support.cli import esb, refused_in_words
from tests.support.gateway import GatewayUnderTest, rest_interface, write_config
from tests.support.target import TargetServer

CJK = re.compile(r"[\u4e00-\u9fff]")
HEADER = {"zh": ["接口/目标", "状态", "接收", "投递", "失败", "挂起", "积压", "阻塞", "成功率"],
          "en": ["interface/target", "status", "recv", "deliv", "fail", "park", "pend", "blkd",
                 "success"]}  # fmt: skip
DEGRADED = {"zh": "降级", "en": "degraded"}


def columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


@pytest.fixture
async def gateway(make_gateway, target: TargetServer, tmp_path: Path) -> GatewayUnderTest:
    """One order parked (the MES refused it), one delivered: sales-order/mes is degraded."""
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    target.script.append(400)
    for order, status in (("SO-CLI-1", "parked"), ("SO-CLI-2", "delivered")):
        accepted = await gut.send("sales_order", {"OrderNo": order})
        await gut.wait_status(accepted.json()["id"], status)
    return gut


async def report(gut: GatewayUnderTest, *args: str, env: dict[str, str], lang: str) -> Any:
    env = {**command_env(gut), **env}
    result = await asyncio.to_thread(esb, "report", *args, env=env, lang=lang)
    assert result.returncode == 0, result.stderr
    return result.stdout


def check_table(stdout: str, lang: str) -> None:
    table = stdout.split("\n\n")[0]  # the interfaces; the schedules follow a blank line
    header, *rows = table.splitlines()
    assert header.split()[:9] == HEADER[lang]
    [row] = rows
    assert row.split()[:2] == ["sales-order/mes", DEGRADED[lang]]
    assert columns(header) == columns(row)  # the columns line up
    assert bool(CJK.search(stdout)) == (lang == "zh")


@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
async def test_report_speaks_the_language_asked_for(gateway: GatewayUnderTest) -> None:
    gut = gateway
    # --lang wins over ESB_LANG
    check_table(await report(gut, "--lang", "zh", env={}, lang="en"), "zh")
    check_table(await report(gut, "--lang", "en", env={}, lang="zh"), "en")
    # ESB_LANG, then the locale
    check_table(await report(gut, env={}, lang="zh"), "zh")
    for locale, lang in (("zh_CN.UTF-8", "zh"), ("en_US.UTF-8", "en")):
        shown = await report(gut, env={"LANG": locale, "LC_ALL": "", "LC_MESSAGES": ""}, lang="")
        check_table(shown, lang)
    # machine output: the same in both
    as_zh = json.loads(await report(gut, "--json", "--lang", "zh", env={}, lang="zh"))
    as_en = json.loads(await report(gut, "--json", "--lang", "en", env={}, lang="en"))
    assert as_zh["interfaces"] == as_en["interfaces"]
    assert as_zh["interfaces"][0]["status"] == "degraded"

    refused = await asyncio.to_thread(esb, "report", "--lang", "fr", env=command_env(gut))
    assert "unknown language 'fr': use zh or en" in refused_in_words(refused, 2)
