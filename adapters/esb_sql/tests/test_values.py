"""Rows as documents: exact numbers, times with the factory's offset, refusals naming columns."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from esb_sql.values import RowRefused, document, documents, json_value

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("120.000"), 120),
        (Decimal("0.000"), 0),
        (Decimal("-5.000"), -5),
        (Decimal("2.500"), 2.5),
        (Decimal("0.100"), 0.1),
        (Decimal("123456789.123"), 123456789.123),
        (Decimal("9223372036854775807"), 2**63 - 1),
    ],
)
def test_decimals_become_the_same_json_number(value: Decimal, expected: object) -> None:
    made = json_value(value, SHANGHAI)
    assert made == expected
    assert type(made) is type(expected)
    assert Decimal(orjson.dumps(made).decode()) == value  # written exactly as stored


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False))
def test_every_decimal_12_3_round_trips_exactly(value: Decimal) -> None:
    assert Decimal(orjson.dumps(json_value(value, SHANGHAI)).decode()) == value


@given(
    st.one_of(
        st.integers(0, 20).flatmap(
            lambda places: st.decimals(allow_nan=False, allow_infinity=False, places=places)
        ),
        st.decimals(min_value=-(10**15), max_value=10**15, allow_nan=False, places=6),
        st.decimals(allow_nan=False, allow_infinity=False),
    )
)
def test_a_decimal_is_taken_as_a_float_only_when_it_reads_back_the_same(value: Decimal) -> None:
    """The short path (15 characters or fewer: no read-back) agrees with the read-back."""
    try:
        made = json_value(value, SHANGHAI)
    except ValueError:
        assert Decimal(repr(float(value))) != value or not -(2**63) <= value < 2**63
    else:
        assert Decimal(repr(made)) == value


@pytest.mark.parametrize(
    "value",
    [Decimal("0.12345678901234567890"), Decimal("92233720368547758070"), Decimal("NaN"), 2**64],
)
def test_a_number_json_cannot_hold_exactly_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"JSON|64-bit"):
        json_value(value, SHANGHAI)


def test_times_without_a_zone_are_read_in_the_factory_zone() -> None:
    assert json_value(datetime(2026, 11, 25, 14, 30), SHANGHAI) == "2026-11-25T14:30:00+08:00"
    aware = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)
    assert json_value(aware, SHANGHAI) == "2026-11-25T14:30:00+08:00"
    assert json_value(date(2026, 11, 25), SHANGHAI) == "2026-11-25"
    assert json_value(time(14, 30), SHANGHAI) == "14:30:00"
    assert json_value(timedelta(hours=26, minutes=5), SHANGHAI) == "26:05:00"  # MySQL TIME
    assert json_value(timedelta(minutes=-90), SHANGHAI) == "-01:30:00"


def test_other_values() -> None:
    key = uuid.uuid4()
    assert json_value(key, SHANGHAI) == str(key)
    assert json_value(b"L1", SHANGHAI) == "L1"
    assert json_value("张伟", SHANGHAI) == "张伟"
    assert json_value(None, SHANGHAI) is None
    assert json_value(True, SHANGHAI) is True
    with pytest.raises(ValueError, match="binary"):
        json_value(b"\xff\xfe", SHANGHAI)
    with pytest.raises(ValueError, match="JSON"):
        json_value(float("inf"), SHANGHAI)
    with pytest.raises(ValueError, match="set"):
        json_value({1, 2}, SHANGHAI)


def test_a_document_leaves_the_write_back_columns_out_and_names_a_bad_column() -> None:
    row = {"id": 1, "qty_good": Decimal("2.500"), "SYNC_FLAG": 0, "sync_msg": None}
    assert document(row, SHANGHAI, {"sync_flag", "sync_msg"}) == {"id": 1, "qty_good": 2.5}
    with pytest.raises(RowRefused) as refused:
        document({"id": 1, "weight": Decimal("0.12345678901234567890")}, SHANGHAI)
    assert str(refused.value).startswith("weight: ")


def test_a_page_of_rows_gives_each_row_its_document_or_its_refusal() -> None:
    columns = ["id", "work_order", "qty_good", "finished_at", "big", "sync_flag"]
    when = datetime(2026, 11, 25, 14, 30)
    rows = [
        (1, "WO-1", Decimal("2.500"), when, 2**63 - 1, 0),
        (2, "WO-2", Decimal("0.12345678901234567890"), when, 0, 0),  # too many digits
        (3, None, Decimal("7"), None, 2**63, 0),  # beyond 64 bits: the slow path says so
        (4, "WO-4", Decimal("1"), when, -(2**63), 0),
    ]
    made = documents(columns, rows, SHANGHAI, {"SYNC_FLAG"})
    assert made[0] == {
        "id": 1,
        "work_order": "WO-1",
        "qty_good": 2.5,
        "finished_at": "2026-11-25T14:30:00+08:00",
        "big": 2**63 - 1,
    }
    assert [getattr(m, "column", None) for m in made] == [None, "qty_good", "big", None]
    assert made[3] == document(dict(zip(columns, rows[3], strict=True)), SHANGHAI, ["sync_flag"])
    assert [type(m) for m in made] == [dict, RowRefused, RowRefused, dict]


@given(
    st.datetimes(min_value=datetime(1850, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from(
        ["Asia/Shanghai", "Asia/Kolkata", "Europe/Berlin", "America/St_Johns", "Pacific/Chatham"]
    ),
)
def test_a_time_without_a_zone_is_written_as_isoformat_writes_it_in_the_zone(
    value: datetime, zone: str
) -> None:
    """Also in the hour a clock goes back or forward, and before standard time (an
    offset with seconds)."""
    assert json_value(value, ZoneInfo(zone)) == value.replace(tzinfo=ZoneInfo(zone)).isoformat()
