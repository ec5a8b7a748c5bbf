"""The kingdee connector inside a running gateway, against the K/3 Cloud stand-in: what the
delivery log records for a lost session (no failed attempt) and a lost Save answer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from esb.standins.kingdee import KingdeeStandIn
from esb.testing.served import Served
from tests.support.gateway import write_config

EXPECTED = Path(__file__).parents[1] / "data" / "scenario" / "expected"
ACCT, USER, PASSWORD = "6512a0b7e4c3f1", "esb", "k3-pa55word"


def vector(n: int) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (EXPECTED / f"kingdee_PRD_INSTOCK_MES-CPL-{n}.json").read_text(encoding="utf-8")
    )
    return loaded


def interface(url: str) -> str:
    return f"""
interfaces:
  production-report:
    source: erp
    message_type: production_receipt
    key: FBillNo
    retry: {{schedule: [0.1s, 0.2s, 0.3s], jitter: 0}}
    targets:
      finance:
        connector:
          kind: kingdee
          url: "{url}/k3cloud"
          acct_id: {ACCT}
          username: {USER}
          password: ${{KINGDEE_PASSWORD}}
          form_id: PRD_INSTOCK
          timeout: {{connect: 1s, total: 3s}}
"""


@pytest.fixture
async def kingdee() -> AsyncIterator[tuple[KingdeeStandIn, str]]:
    standin = KingdeeStandIn(users={(ACCT, USER): PASSWORD})
    served = await Served(standin.app()).start()
    yield standin, served.url
    await served.stop()


def attempts(message: dict[str, Any]) -> list[str]:
    return [a["outcome"] for a in message["deliveries"][0]["attempt_log"]]


async def test_a_session_lost_between_two_receipts_records_no_failed_attempt(
    make_gateway: Any, kingdee: tuple[KingdeeStandIn, str], tmp_path: Path
) -> None:
    standin, url = kingdee
    config = write_config(tmp_path / "cfg", interface(url))
    gut = await make_gateway(config, env={"KINGDEE_PASSWORD": PASSWORD})
    first = (await gut.send("production_receipt", vector(1)["Model"])).json()["id"]
    await gut.wait_status(first, "delivered")
    standin.expire_sessions()
    second = (await gut.send("production_receipt", vector(2)["Model"])).json()["id"]
    delivered = await gut.wait_status(second, "delivered")

    assert attempts(delivered) == ["delivered"]  # the re-login is no attempt
    assert attempts(await gut.message(first)) == ["delivered"]
    assert standin.logins == 2
    assert standin.received() == [vector(1), vector(2)]


async def test_a_lost_save_answer_is_delivered_on_the_retry_with_one_receipt(
    make_gateway: Any, kingdee: tuple[KingdeeStandIn, str], tmp_path: Path
) -> None:
    standin, url = kingdee
    standin.lose_next_save_reply(502)
    config = write_config(tmp_path / "cfg", interface(url))
    gut = await make_gateway(config, env={"KINGDEE_PASSWORD": PASSWORD})
    message_id = (await gut.send("production_receipt", vector(1)["Model"])).json()["id"]
    delivered = await gut.wait_status(message_id, "delivered")

    assert attempts(delivered) == ["retry", "delivered"]
    assert standin.received() == [vector(1)]  # one receipt, not two


async def test_a_wrong_password_parks_at_once(
    make_gateway: Any, kingdee: tuple[KingdeeStandIn, str], tmp_path: Path
) -> None:
    standin, url = kingdee
    config = write_config(tmp_path / "cfg", interface(url))
    gut = await make_gateway(config, env={"KINGDEE_PASSWORD": "wrong"})
    message_id = (await gut.send("production_receipt", vector(1)["Model"])).json()["id"]
    parked = await gut.wait_status(message_id, "parked")

    assert attempts(parked) == ["parked"]
    assert "Kingdee refused the login of user 'esb'" in parked["deliveries"][0]["last_error"]
    assert standin.refused_logins == 1
    assert standin.documents == []
