"""The ``kingdee-poll`` watermark and options, as pure logic: no Kingdee, no gateway."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from esb.standins.kingdee_query import BillQuery, QueryError
from esb_kingdee import KingdeePollConfig
from esb_kingdee.watermark import Boundary, after_string, filter_string, literal, row_key, site_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
T1, T2 = datetime(2026, 11, 25, 10, 0), datetime(2026, 11, 25, 10, 0, 1)


def test_site_times_are_naive_in_the_site_zone() -> None:
    assert site_time("2026-11-25T10:00:00", SHANGHAI) == T1
    assert site_time("2026-11-25T02:00:00Z", SHANGHAI) == T1
    assert site_time("2026-11-25T10:00:00.123", SHANGHAI) == T1.replace(microsecond=123000)
    assert site_time(None, SHANGHAI) is None
    with pytest.raises(ValueError, match="no time"):
        site_time(20261125, SHANGHAI)


def test_the_filter_asks_from_the_watermark_after_the_users_filter() -> None:
    assert filter_string("FModifyDate", None, None) == ""
    assert filter_string("FModifyDate", T1, None) == "FModifyDate >= '2026-11-25 10:00:00'"
    since = T1.replace(microsecond=123456)
    assert filter_string("FModifyDate", since, "FDocumentStatus = 'C'") == (
        "(FDocumentStatus = 'C') AND FModifyDate >= '2026-11-25 10:00:00.123'"
    )


def test_a_row_keeps_its_key_until_it_changes() -> None:
    key = row_key("SAL_SaleOrder", ["XSDD0001"], T1, SHANGHAI)
    assert key == "kingdee-poll:SAL_SaleOrder:XSDD0001@2026-11-25T02:00:00+00:00"
    assert row_key("SAL_SaleOrder", ["XSDD0001"], T2, SHANGHAI) != key
    long = row_key("SAL_SaleOrder", ["X" * 200], T1, SHANGHAI)
    assert long.startswith("kingdee-poll:SAL_SaleOrder:sha256:")
    assert len(long) < 150


def test_the_boundary_keeps_the_rows_read_at_the_latest_time() -> None:
    first = Boundary().advance([(T1, "a"), (T1, "b")])
    assert first == Boundary(T1, frozenset({"a", "b"}))
    assert first.advance([(T1, "a"), (T1, "c")]).seen == {"a", "b", "c"}  # same second
    assert first.advance([(T1, "c"), (T2, "d")]) == Boundary(T2, frozenset({"d"}))
    assert first.advance([(None, "e")]) == first  # no change time: does not move it
    stored = first.dump()
    assert stored == {"value": "2026-11-25 10:00:00", "seen": ["a", "b"]}
    assert Boundary.load(stored, None, SHANGHAI) == first
    assert Boundary.load(None, "2026-11-01T00:00:00+08:00", SHANGHAI).value == datetime(2026, 11, 1)
    assert Boundary.load(None, None, SHANGHAI).dump() is None


OPTIONS = {"url": "http://k3/k3cloud", "acct_id": "1", "username": "esb", "password": "pw",
           "form_id": "SAL_SaleOrder"}  # fmt: skip


def test_options_must_read_the_watermark_and_key_fields() -> None:
    with pytest.raises(ValidationError, match="must hold FModifyDate"):
        KingdeePollConfig(**OPTIONS, field_keys=["FBillNo", "FDate"])
    with pytest.raises(ValidationError, match="not a Kingdee field key"):
        KingdeePollConfig(**OPTIONS, field_keys=["FBillNo", "FModifyDate", "F x"])
    with pytest.raises(ValidationError, match="two fields one document name"):
        KingdeePollConfig(**OPTIONS, field_keys=["FBillNo", "FModifyDate"],
                          names={"FBillNo": "FModifyDate"})  # fmt: skip
    with pytest.raises(ValidationError, match="no ISO 8601 time"):
        KingdeePollConfig(**OPTIONS, field_keys=["FBillNo", "FModifyDate"], start="yesterday")
    with pytest.raises(ValidationError, match="password"):
        KingdeePollConfig(**{**OPTIONS, "password": None}, field_keys=["FBillNo", "FModifyDate"])


def test_the_next_page_is_asked_after_the_last_row_by_time_then_each_key() -> None:
    assert literal("O'Brien") == "'O''Brien'"
    assert literal(10) == "10"
    with pytest.raises(ValueError, match="cannot be compared"):
        literal(None)
    one = after_string("FModifyDate", T1, ["FBillNo"], ["XSDD0002"], None)
    assert one == (
        "(FModifyDate > '2026-11-25 10:00:00' OR (FModifyDate = '2026-11-25 10:00:00' "
        "AND (FBillNo > 'XSDD0002')))"
    )
    two = after_string(
        "FModifyDate",
        T1,
        ["FBillNo", "FEntity_FEntryID"],
        ["XSDD0002", 10],
        "FDocumentStatus = 'C'",
    )
    assert two.startswith("(FDocumentStatus = 'C') AND (FModifyDate > ")
    assert "(FBillNo > 'XSDD0002' OR (FBillNo = 'XSDD0002' AND (FEntity_FEntryID > 10)))" in two


def test_the_stand_in_reads_those_filters_as_kingdee_would() -> None:
    """Numbers compare as numbers (entry 9 before entry 10), text as text, times as times;
    AND binds closer than OR; anything else is refused."""
    query = BillQuery()
    for bill, entry, at in (("A", 9, "10:00:00"), ("A", 10, "10:00:00"), ("B", 1, "10:00:00"),
                            ("A", 1, "10:00:01")):  # fmt: skip
        query.bills.setdefault("F", []).append(
            {"FBillNo": bill, "FEntryID": entry, "FModifyDate": f"2026-11-25T{at}"}
        )
    where = after_string("FModifyDate", T1, ["FBillNo", "FEntryID"], ["A", 9], None)
    body = {"data": {"FormId": "F", "FieldKeys": "FBillNo,FEntryID", "FilterString": where,
                     "OrderString": "FModifyDate ASC,FBillNo ASC,FEntryID ASC"}}  # fmt: skip
    assert query.run(body) == [["A", 10], ["B", 1], ["A", 1]]
    for bad in ("FBillNo = A", "FBillNo = 'A' AND", "(FBillNo = 'A'", "FBillNo LIKE 'A%'"):
        with pytest.raises(QueryError, match="过滤条件语法错误"):
            query.run({"data": {**body["data"], "FilterString": bad}})
