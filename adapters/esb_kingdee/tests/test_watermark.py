"""The ``kingdee-poll`` watermark and options, as pure logic: no Kingdee, no gateway."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from esb_kingdee import KingdeePollConfig
from esb_kingdee.watermark import Boundary, filter_string, row_key, site_time

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
