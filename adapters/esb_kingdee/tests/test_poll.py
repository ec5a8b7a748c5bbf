"""The ``kingdee-poll`` source against the K/3 Cloud stand-in on a real socket: paging,
the watermark and its boundary, lost sessions, failing and refused queries, outages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from esb.connectors import load_registry
from esb.sdk import StoreUnavailable
from esb.standins.kingdee import KingdeeStandIn
from esb.standins.kingdee_query import BillQuery
from esb.testing.served import Served
from esb.testing.standin import StandInGateway
from esb_kingdee import KingdeePollSource
from esb_kingdee.poll import WATERMARK, BadRows, QueryFailed

ACCT, USER, PASSWORD = "6512a0b7e4c3f1", "esb", "k3-pa55word"
FORM = "SAL_SaleOrder"
KEYS = ["FBillNo", "FModifyDate", "FCustId.FNumber", "FDocumentStatus"]


def bill(n: int, at: str = "2026-11-25T10:00:00", status: str = "C") -> dict[str, Any]:
    return {"FBillNo": f"XSDD{n:04d}", "FModifyDate": at, "FCustId.FNumber": "C0001",
            "FDocumentStatus": status}  # fmt: skip


BUILT: list[KingdeePollSource] = []


@pytest.fixture
async def kingdee() -> AsyncIterator[tuple[KingdeeStandIn, str]]:
    standin = KingdeeStandIn(users={(ACCT, USER): PASSWORD})
    served = await Served(standin.app()).start()
    yield standin, f"{served.url}/k3cloud"
    while BUILT:
        await BUILT.pop().aclose()
    await served.stop()


def source(url: str, gateway: StandInGateway, tmp_path: Path, **options: Any) -> KingdeePollSource:
    given: dict[str, Any] = {
        "url": url, "acct_id": ACCT, "username": USER, "password": PASSWORD, "form_id": FORM,
        "field_keys": KEYS, "names": {"FCustId.FNumber": "customer"}, "page_size": 2,
        "time_zone": "Asia/Shanghai", "timeout": {"connect": 2, "total": 5}, **options,
    }  # fmt: skip
    registry = load_registry()
    config = registry.source_config("kingdee-poll", given)
    built = registry.build_inbound(config, gateway.context("orders", "finance", "order", tmp_path))
    assert isinstance(built, KingdeePollSource)
    BUILT.append(built)
    return built


def after(at: str, number: str) -> str:
    """The FilterString of a page that follows one ending with bill ``number`` at ``at``."""
    return f"(FModifyDate > '{at}' OR (FModifyDate = '{at}' AND (FBillNo > '{number}')))"


def filters(standin: KingdeeStandIn) -> list[tuple[str, int]]:
    return [(q["FilterString"], q["StartRow"]) for q in standin.query.queries]


async def test_pages_until_a_short_page_then_asks_from_the_watermark(
    kingdee: tuple[KingdeeStandIn, str], tmp_path: Path
) -> None:
    standin, url = kingdee
    for n, second in ((3, 2), (1, 0), (2, 1)):
        standin.query.put_bill(FORM, bill(n, f"2026-11-25T10:00:0{second}"))
    gateway = StandInGateway()
    polled = source(url, gateway, tmp_path)
    assert await polled.pull() == 3
    assert [o.body["FBillNo"] for o in gateway.accepted()] == ["XSDD0001", "XSDD0002",
                                                               "XSDD0003"]  # fmt: skip
    assert gateway.accepted()[0].body == {
        "FBillNo": "XSDD0001", "FModifyDate": "2026-11-25T10:00:00", "customer": "C0001",
        "FDocumentStatus": "C",
    }  # fmt: skip
    assert gateway.accepted()[0].idempotency_key == (
        "kingdee-poll:SAL_SaleOrder:XSDD0001@2026-11-25T02:00:00+00:00"
    )
    # page 2 asks for what comes after page 1's last row, by time then bill number
    assert filters(standin) == [("", 0), (after("2026-11-25 10:00:01", "XSDD0002"), 0)]
    assert await gateway.state.get(WATERMARK) == {
        "value": "2026-11-25 10:00:02",
        "seen": ["kingdee-poll:SAL_SaleOrder:XSDD0003@2026-11-25T02:00:02+00:00"],
    }
    query = standin.query.queries[0]
    assert query["FieldKeys"] == ",".join(KEYS)
    assert query["OrderString"] == "FModifyDate ASC,FBillNo ASC"
    assert query["Limit"] == 2

    # nothing changed: asked from the watermark, the row at it not taken in again
    assert await polled.pull() == 0
    assert filters(standin)[-1] == ("FModifyDate >= '2026-11-25 10:00:02'", 0)
    assert len(gateway.offered) == 3


async def test_a_change_in_the_same_second_as_the_watermark_is_not_lost(
    kingdee: tuple[KingdeeStandIn, str], tmp_path: Path
) -> None:
    standin, url = kingdee
    standin.query.put_bill(FORM, bill(1))
    gateway = StandInGateway()
    polled = source(url, gateway, tmp_path)
    assert await polled.pull() == 1
    standin.query.put_bill(FORM, bill(2))  # changed in the same second
    standin.query.put_bill(FORM, bill(1, "2026-11-25T11:00:00"))  # changed again later
    assert await polled.pull() == 2
    taken = [(o.body["FBillNo"], o.body["FModifyDate"]) for o in gateway.accepted()]
    assert taken == [("XSDD0001", "2026-11-25T10:00:00"), ("XSDD0002", "2026-11-25T10:00:00"),
                     ("XSDD0001", "2026-11-25T11:00:00")]  # fmt: skip


async def test_more_rows_at_one_time_than_a_page_are_each_taken_once(
    kingdee: tuple[KingdeeStandIn, str], tmp_path: Path
) -> None:
    standin, url = kingdee
    for n in range(1, 6):
        standin.query.put_bill(FORM, bill(n))
    gateway = StandInGateway()
    polled = source(url, gateway, tmp_path, start="2026-11-01T00:00:00")
    assert await polled.pull() == 5
    since = "FModifyDate >= '2026-11-01 00:00:00'"
    at = "2026-11-25 10:00:00"
    assert filters(standin) == [(since, 0), (after(at, "XSDD0002"), 0), (after(at, "XSDD0004"), 0)]
    assert await polled.pull() == 0
    assert len(gateway.offered) == 5


async def test_a_bill_changed_while_the_pull_pages_pushes_no_unread_bill_out_of_reach(
    kingdee: tuple[KingdeeStandIn, str], tmp_path: Path
) -> None:
    """Five bills stamped in one moment, two a page: bill 1, read on page 1, changes
    before page 2 is asked. Asked by offset, page 2 would start one bill too far and bill
    3 would never be read; asked after the last row read, every bill is read once, and
    bill 1's change is read as the new message it is."""
    standin, url = kingdee
    for n in range(1, 6):
        standin.query.put_bill(FORM, bill(n))

    class ChangedAfterPageOne(BillQuery):
        def run(self, body: dict[str, Any]) -> list[list[Any]]:
            answer = super().run(body)
            if len(self.queries) == 1:  # after page 1 was answered
                self.put_bill(FORM, bill(1, "2026-11-25T10:05:00"))
            return answer

    standin.query = ChangedAfterPageOne(bills=standin.query.bills)
    gateway = StandInGateway()
    polled = source(url, gateway, tmp_path, start="2026-11-01T00:00:00")
    assert await polled.pull() == 6
    taken = [(o.body["FBillNo"], o.body["FModifyDate"][-8:]) for o in gateway.accepted()]
    assert taken == [("XSDD0001", "10:00:00"), ("XSDD0002", "10:00:00"),
                     ("XSDD0003", "10:00:00"), ("XSDD0004", "10:00:00"),
                     ("XSDD0005", "10:00:00"), ("XSDD0001", "10:05:00")]  # fmt: skip


async def test_a_lost_session_is_one_login_and_the_same_query_again(
    kingdee: tuple[KingdeeStandIn, str], tmp_path: Path
) -> None:
    standin, url = kingdee
    standin.query.put_bill(FORM, bill(1))
    gateway = StandInGateway()
    polled = source(url, gateway, tmp_path, envelope="parameters")
    assert await polled.pull() == 1
    standin.expire_sessions()
    standin.query.put_bill(FORM, bill(2, "2026-11-25T10:05:00"))
    assert await polled.pull() == 1
    assert standin.logins == 2
    # the lost query, the same again after the login, and the (empty) page after a full one
    assert standin.calls[2:] == ["DynamicFormService.ExecuteBillQuery",
                                 "AuthService.ValidateUser"] + [
        "DynamicFormService.ExecuteBillQuery"] * 2  # fmt: skip


@pytest.mark.parametrize(
    ("fail", "error"),
    [
        (
            lambda s: s.fail_next(1, 500),
            "HTTP 500 from Kingdee DynamicFormService.ExecuteBillQuery",
        ),
        (lambda s: s.garble_next(), "answered HTTP 200 without JSON"),
    ],
)
async def test_a_failing_or_garbage_answer_leaves_the_watermark(
    kingdee: tuple[KingdeeStandIn, str], tmp_path: Path, fail: Any, error: str
) -> None:
    standin, url = kingdee
    standin.query.put_bill(FORM, bill(1))
    gateway = StandInGateway()
    polled = source(url, gateway, tmp_path)
    await polled.pull()
    before = await gateway.state.get(WATERMARK)
    standin.query.put_bill(FORM, bill(2, "2026-11-25T10:05:00"))
    await polled.client.session()  # logged in: the failure hits the query itself
    fail(standin)
    with pytest.raises(QueryFailed, match=error) as failed:
        await polled.pull()
    assert "page 1 of SAL_SaleOrder from 2026-11-25 10:00:00" in str(failed.value)
    assert await gateway.state.get(WATERMARK) == before
    assert await polled.pull() == 1  # Kingdee is back: asked again from the same place


async def test_a_query_kingdee_refuses_is_reported_with_its_message(
    kingdee: tuple[KingdeeStandIn, str], tmp_path: Path
) -> None:
    standin, url = kingdee
    standin.query.put_bill(FORM, bill(1))
    gateway = StandInGateway()
    polled = source(url, gateway, tmp_path, filter="FNoSuchField = 'x'")
    with pytest.raises(QueryFailed, match=r"Kingdee refused the query: .*FNoSuchField"):
        await polled.pull()
    assert await gateway.state.get(WATERMARK) is None


async def test_the_users_filter_is_anded(
    kingdee: tuple[KingdeeStandIn, str], tmp_path: Path
) -> None:
    standin, url = kingdee
    standin.query.put_bill(FORM, bill(1))
    standin.query.put_bill(FORM, bill(2, status="A"))
    gateway = StandInGateway()
    polled = source(url, gateway, tmp_path, filter="FDocumentStatus = 'C'",
                    start="2026-11-25T00:00:00+08:00")  # fmt: skip
    assert await polled.pull() == 1
    assert filters(standin)[0][0] == (
        "(FDocumentStatus = 'C') AND FModifyDate >= '2026-11-25 00:00:00'"
    )


async def test_a_store_outage_leaves_the_watermark_and_a_refused_row_is_passed(
    kingdee: tuple[KingdeeStandIn, str], tmp_path: Path
) -> None:
    standin, url = kingdee
    standin.query.put_bill(FORM, bill(1))
    gateway = StandInGateway(mode="unavailable")
    polled = source(url, gateway, tmp_path)
    with pytest.raises(StoreUnavailable):
        await polled.pull()
    assert await gateway.state.get(WATERMARK) is None
    gateway.mode = "refuse"
    assert await polled.pull() == 0
    assert (await gateway.state.get(WATERMARK))["value"] == "2026-11-25 10:00:00"
    gateway.mode = "accept"
    assert await polled.pull() == 0  # refused once: its own fault, not asked again
    assert [o.answer for o in gateway.offered] == ["unavailable", "refuse"]


async def test_rows_that_do_not_fit_the_field_keys_are_a_bad_answer(
    kingdee: tuple[KingdeeStandIn, str], tmp_path: Path
) -> None:
    _, url = kingdee
    polled = source(url, StandInGateway(), tmp_path)
    with pytest.raises(BadRows, match="a row of 2 values for 4 field keys"):
        polled.row(["XSDD0001", "2026-11-25T10:00:00"], "page 1")
    with pytest.raises(BadRows, match="FModifyDate 'soon' is no time"):
        polled.row(["XSDD0001", "soon", "C0001", "C"], "page 1")
