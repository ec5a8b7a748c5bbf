"""``kingdee-poll`` inside a running gateway, in both modes, against the K/3 Cloud stand-in:
bills read through the pipeline to a target; the watermark kept across a restart (the
next query's FilterString carries it); a lost session is one login, nothing lost; a 500
or a garbage answer leaves the watermark and shows in the health report."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from esb.standins.kingdee import KingdeeStandIn
from esb.store.source_state import SourceStateStore
from esb.testing.served import Served
from tests.support.drops import eventually
from tests.support.gateway import GatewayUnderTest, write_config
from tests.support.target import TargetServer

ACCT, USER, PASSWORD = "6512a0b7e4c3f1", "esb", "k3-pa55word"
FORM, JOB = "SAL_SaleOrder", "finance-orders/kingdee-poll/poll"


def bill(n: int, second: int) -> dict[str, Any]:
    return {"FBillNo": f"XSDD{n:04d}", "FModifyDate": f"2026-11-25T10:00:{second:02d}",
            "FCustId.FNumber": "C0001", "FQty": n * 1.5}  # fmt: skip


def interface(kingdee: str, target: str) -> str:
    return f"""
interfaces:
  finance-orders:
    source: finance
    message_type: sales_order
    key: FBillNo
    inbound:
      - kind: kingdee-poll
        url: "{kingdee}/k3cloud"
        acct_id: {ACCT}
        username: {USER}
        password: ${{KINGDEE_PASSWORD}}
        form_id: {FORM}
        field_keys: [FBillNo, FModifyDate, FCustId.FNumber, FQty]
        names: {{FCustId.FNumber: customer}}
        page_size: 2
        interval: 0.2s
        time_zone: Asia/Shanghai
        timeout: {{connect: 1s, total: 3s}}
    targets:
      mes:
        connector: {{kind: rest, url: "{target}/api/orders", timeout: {{connect: 1s, total: 3s}}}}
"""


@pytest.fixture
async def kingdee() -> AsyncIterator[tuple[KingdeeStandIn, str]]:
    standin = KingdeeStandIn(users={(ACCT, USER): PASSWORD})
    served = await Served(standin.app()).start()
    yield standin, served.url
    await served.stop()


async def watermark(gut: GatewayUnderTest) -> Any:
    return await SourceStateStore(gut.gateway.engine, "finance-orders", "kingdee-poll").get(
        "watermark"
    )


async def schedule(gut: GatewayUnderTest) -> dict[str, Any] | None:
    report = (await gut.admin("GET", "/v1/report")).json()
    return next((s for s in report["schedules"] if s["job"] == JOB), None)


def numbers(target: TargetServer) -> list[str]:
    return [b["FBillNo"] for b in target.bodies("/api/orders")]


async def test_bills_reach_the_target_across_a_lost_session_and_a_restart(
    make_gateway: Any, kingdee: tuple[KingdeeStandIn, str], target: TargetServer, tmp_path: Path
) -> None:
    standin, url = kingdee
    for n in (1, 2, 3):
        standin.query.put_bill(FORM, bill(n, n))
    config = write_config(tmp_path / "cfg", interface(url, target.url))
    gut = await make_gateway(config, env={"KINGDEE_PASSWORD": PASSWORD}, config_watch=False)

    await eventually(lambda: len(numbers(target)) == 3, what="three bills at the target")
    first = next(b for b in target.bodies("/api/orders") if b["FBillNo"] == "XSDD0001")
    assert first == {
        "FBillNo": "XSDD0001", "FModifyDate": "2026-11-25T10:00:01", "customer": "C0001",
        "FQty": 1.5,
    }  # fmt: skip
    assert await watermark(gut) == {
        "value": "2026-11-25 10:00:03",
        "seen": ["kingdee-poll:SAL_SaleOrder:XSDD0003@2026-11-25T02:00:03+00:00"],
    }

    # the session is lost mid-run: one login, the bill changed meanwhile not lost
    standin.expire_sessions()
    standin.query.put_bill(FORM, bill(2, 4))
    await eventually(lambda: numbers(target).count("XSDD0002") == 2, what="the changed bill")
    assert standin.logins == 2
    report = await schedule(gut)
    assert report is not None
    assert report["failures"] == 0

    # the watermark survives a restart: the first query after it asks from it
    await gut.stop()
    asked = len(standin.query.queries)
    standin.query.put_bill(FORM, bill(5, 5))
    await gut.start()
    await eventually(lambda: "XSDD0005" in numbers(target), what="the bill after the restart")
    assert standin.query.queries[asked]["FilterString"] == "FModifyDate >= '2026-11-25 10:00:04'"
    # bills of different keys may arrive in any order; one key's updates arrive in order
    assert sorted(numbers(target)) == ["XSDD0001", "XSDD0002", "XSDD0002", "XSDD0003", "XSDD0005"]
    changes = [b["FModifyDate"] for b in target.bodies("/api/orders") if b["FBillNo"] == "XSDD0002"]
    assert changes == ["2026-11-25T10:00:02", "2026-11-25T10:00:04"]


@pytest.mark.parametrize(
    ("fail", "error"),
    [
        (lambda s: s.fail_next(100, 500), "HTTP 500 from Kingdee"),
        (lambda s: s.garble_next(100), "answered HTTP 200 without JSON"),
    ],
)
async def test_a_failing_or_garbage_answer_leaves_the_watermark_and_is_reported(
    make_gateway: Any,
    kingdee: tuple[KingdeeStandIn, str],
    target: TargetServer,
    tmp_path: Path,
    fail: Callable[[KingdeeStandIn], None],
    error: str,
) -> None:
    standin, url = kingdee
    standin.query.put_bill(FORM, bill(1, 1))
    config = write_config(tmp_path / "cfg", interface(url, target.url))
    gut = await make_gateway(config, env={"KINGDEE_PASSWORD": PASSWORD}, config_watch=False)
    await eventually(lambda: numbers(target) == ["XSDD0001"], what="the first bill")
    before = await watermark(gut)
    standin.query.put_bill(FORM, bill(2, 2))
    fail(standin)

    async def failed() -> dict[str, Any] | None:
        found = await schedule(gut)
        return found if found and found["failures"] >= 2 else None

    record = await eventually(failed, what="two failed pulls in the health report")
    assert error in record["error"]
    assert "page 1 of SAL_SaleOrder" in record["error"]
    assert await watermark(gut) == before
    assert numbers(target) == ["XSDD0001"]

    standin.stop_failing()  # Kingdee is back: the next pull asks again from the watermark
    await eventually(lambda: numbers(target) == ["XSDD0001", "XSDD0002"], what="recovered")
    assert (await watermark(gut))["value"] == "2026-11-25 10:00:02"
