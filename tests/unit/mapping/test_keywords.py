"""One behaviour per keyword of a mapping file, each on a tiny mapping compiled from text."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from esb.errors import MappingError, XrefMissing
from esb.mapping import MappingContext, StaticXref
from tests.unit.mapping.helpers import CTX, compile_fields


def test_plain_string_is_a_path_and_key_order_is_the_files(tmp_path: Path) -> None:
    mapping = compile_fields(tmp_path, "b: B\na: A\nc: C.D\n")
    out = mapping({"A": 1, "B": 2, "C": {"D": 3}}, CTX)
    assert list(out.items()) == [("b", 2), ("a", 1), ("c", 3)]


def test_paths_index_quote_and_read_from_the_root(tmp_path: Path) -> None:
    mapping = compile_fields(
        tmp_path,
        """
        first: Lines[0].Qty
        last: Lines[-1].Qty
        spaced: '"Order No"'
        whole: "@"
        """,
    )
    body = {"Lines": [{"Qty": "1"}, {"Qty": "2"}], "Order No": "X"}
    out = mapping(body, CTX)
    assert (out["first"], out["last"], out["spaced"]) == ("1", "2", "X")
    assert out["whole"] is body


def test_missing_values_are_left_out_and_null_counts_as_missing(tmp_path: Path) -> None:
    mapping = compile_fields(tmp_path, "a: A\nb: B\nc: Lines[5]\nd: A.deeper\n")
    assert mapping({"A": None, "Lines": []}, CTX) == {}


def test_default_is_written_as_is_and_required_is_an_error(tmp_path: Path) -> None:
    mapping = compile_fields(
        tmp_path,
        """
        remark: {path: Remark, default: ""}
        tags: {path: Tags, default: []}
        num: {path: OrderNo, required: true}
        """,
    )
    first = mapping({"OrderNo": "1"}, CTX)
    assert first == {"remark": "", "tags": [], "num": "1"}
    first["tags"].append("x")
    assert mapping({"OrderNo": "2"}, CTX)["tags"] == [], "defaults are never shared"
    with pytest.raises(MappingError, match=r"^OrderNo: required value is missing$"):
        mapping({}, CTX)


def test_const_is_written_even_without_source(tmp_path: Path) -> None:
    mapping = compile_fields(tmp_path, "source: {const: erp}\nnothing: {const: null}\n")
    assert mapping({}, CTX) == {"source": "erp", "nothing": None}


def test_nested_object_from_the_same_record_or_from_a_path(tmp_path: Path) -> None:
    mapping = compile_fields(
        tmp_path,
        """
        header:
          fields: {num: OrderNo}
        shipTo:
          path: Address
          fields: {city: City, order: $.OrderNo}
        """,
    )
    body = {"OrderNo": "1", "Address": {"City": "Suzhou"}}
    assert mapping(body, CTX) == {
        "header": {"num": "1"},
        "shipTo": {"city": "Suzhou", "order": "1"},
    }
    assert mapping({"OrderNo": "1"}, CTX) == {"header": {"num": "1"}}


def test_each_maps_items_relative_to_the_item_and_reaches_the_root(tmp_path: Path) -> None:
    mapping = compile_fields(
        tmp_path,
        """
        items:
          each: Lines
          fields:
            sku: Sku
            order: $.OrderNo
            sub:
              each: Parts
              fields: {p: P, line: "$.Lines[0].Sku"}
        """,
    )
    body = {"OrderNo": "1", "Lines": [{"Sku": "A", "Parts": [{"P": 1}]}, {"Sku": "B"}]}
    assert mapping(body, CTX) == {
        "items": [
            {"sku": "A", "order": "1", "sub": [{"p": 1, "line": "A"}]},
            {"sku": "B", "order": "1"},
        ]
    }
    assert mapping({"Lines": []}, CTX) == {"items": []}
    assert mapping({}, CTX) == {}


@pytest.mark.parametrize(
    ("type_name", "value", "expected"),
    [
        ("string", 12, "12"),
        ("string", 2.50, "2.5"),
        ("string", 120.0, "120"),
        ("string", True, "true"),
        ("int", "40", 40),
        ("int", " -3 ", -3),
        ("int", "40.0", 40),
        ("int", 7.0, 7),
        ("number", "120", 120),
        ("number", "2.5", 2.5),
        ("number", "-3", -3),
        ("number", "1e3", 1000.0),
        ("decimal", "12.50", Decimal("12.50")),
        ("decimal", 2.5, Decimal("2.5")),
        ("bool", "yes", True),
        ("bool", "N", False),
        ("bool", 0, False),
    ],
)
def test_type_converts(tmp_path: Path, type_name: str, value: object, expected: object) -> None:
    mapping = compile_fields(tmp_path, f"v: {{path: V, type: {type_name}}}\n")
    out = mapping({"V": value}, CTX)["v"]
    assert out == expected
    assert type(out) is type(expected)


def test_date_rewrites_a_calendar_date(tmp_path: Path) -> None:
    mapping = compile_fields(
        tmp_path,
        """
        due: {path: D, date: {from: yyyyMMdd, to: yyyy-MM-dd}}
        german: {path: D, date: {from: yyyyMMdd, to: dd.MM.yyyy}}
        words: {path: D, date: {from: yyyyMMdd, to: "EEE d MMM yyyy"}}
        iso: {path: I, date: {from: iso, to: yyyyMMdd}}
        loose: {path: L, date: {from: yyyyMMdd, to: yyyy-MM-dd, invalid: pass}}
        """,
    )
    out = mapping({"D": "20261205", "I": "2026-02-28", "L": "soon"}, CTX)
    assert out == {
        "due": "2026-12-05",
        "german": "05.12.2026",
        "words": "Sat 5 Dec 2026",
        "iso": "20260228",
        "loose": "soon",
    }


def test_datetime_reads_local_time_in_a_zone_and_writes_iso_with_offset(tmp_path: Path) -> None:
    mapping = compile_fields(
        tmp_path,
        """
        local:
          path: T
          datetime: {from: yyyy-MM-dd HH:mm, zone: Asia/Shanghai, to: "yyyy-MM-dd'T'HH:mm:ssXXX"}
        utc:
          path: T
          datetime: {from: yyyy-MM-dd HH:mm, zone: Asia/Shanghai, to_zone: UTC, to: iso}
        berlin:
          path: T
          datetime: {from: yyyy-MM-dd HH:mm, zone: "+08:00", to_zone: Europe/Berlin,
                     to: "dd.MM.yyyy hh:mm a Z"}
        day: {path: T, datetime: {from: yyyy-MM-dd HH:mm, to: yyyy-MM-dd}}
        """,
    )
    out = mapping({"T": "2026-11-25 09:30"}, CTX)
    assert out == {
        "local": "2026-11-25T09:30:00+08:00",
        "utc": "2026-11-25T01:30:00+00:00",
        "berlin": "25.11.2026 02:30 AM +0100",
        "day": "2026-11-25",
    }


def test_datetime_keeps_an_offset_read_from_the_value(tmp_path: Path) -> None:
    mapping = compile_fields(
        tmp_path,
        """
        t: {path: T, datetime: {from: "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", to: "HH:mm:ss.SSS X"}}
        z: {path: Z, datetime: {from: iso, to_zone: Asia/Shanghai, to: "yyyy-MM-dd HH:mm"}}
        """,
    )
    out = mapping({"T": "2026-11-25T09:30:05.120-05:00", "Z": "2026-11-25T01:30:00Z"}, CTX)
    assert out == {"t": "09:30:05.120 -05", "z": "2026-11-25 09:30"}


@pytest.mark.parametrize(
    ("table", "value", "expected"),
    [
        ("{values: {'01': NORMAL}, unknown: error}", "01", "NORMAL"),
        ("{values: {'01': NORMAL}, unknown: pass}", "99", "99"),
        ("{values: {'01': NORMAL}, unknown: default, default: OTHER}", "99", "OTHER"),
        ("{values: {'1': ONE}, unknown: error}", 1, "ONE"),
        ("{values: {'02': 1}, unknown: error}", "02", 1),
    ],
)
def test_code_table_policies(tmp_path: Path, table: str, value: object, expected: object) -> None:
    tables = f"code_tables:\n  t: {table}\n"
    mapping = compile_fields(tmp_path, "v: {path: V, code_table: t}\n", tables)
    assert mapping({"V": value}, CTX) == {"v": expected}


def test_unknown_code_with_unknown_error_names_code_table_and_path(tmp_path: Path) -> None:
    tables = "code_tables:\n  t: {values: {A: B}, unknown: error}\n"
    mapping = compile_fields(tmp_path, "v: {path: V, code_table: t}\n", tables)
    with pytest.raises(MappingError, match=r"^V: code 'Z' is not in code table 't'$"):
        mapping({"V": "Z"}, CTX)


def test_shared_code_table_from_code_tables_folder(tmp_path: Path) -> None:
    mapping = compile_fields(
        tmp_path, "uom: {path: U, code_table: uom}\n", uom="values: {PCS: EA}\nunknown: error\n"
    )
    assert mapping({"U": "PCS"}, CTX) == {"uom": "EA"}


def test_xref_goes_from_source_to_target_or_explicit_systems(tmp_path: Path) -> None:
    mapping = compile_fields(
        tmp_path,
        """
        mes: {path: C, xref: customer}
        wms: {path: C, xref: {domain: customer, to: wms}}
        back: {path: W, xref: {domain: customer, from: wms, to: erp}}
        """,
    )
    assert mapping.xref_domains == frozenset({"customer"})
    out = mapping({"C": "C0001", "W": "CUST-01"}, CTX)
    assert out == {"mes": "900123", "wms": "CUST-01", "back": "C0001"}


def test_xref_miss_is_xref_missing_with_every_detail(tmp_path: Path) -> None:
    mapping = compile_fields(tmp_path, "items: {each: L, fields: {m: {path: M, xref: material}}}\n")
    with pytest.raises(XrefMissing) as caught:
        mapping({"L": [{"M": "MAT-1001"}, {"M": "MAT-0"}]}, CTX)
    error = caught.value
    assert (error.domain, error.from_system, error.to_system, error.code) == (
        "material",
        "erp",
        "mes",
        "MAT-0",
    )
    assert error.path == "L[1].M"


def test_xref_after_code_table_and_before_type(tmp_path: Path) -> None:
    xref = StaticXref({"plant": [{"erp": "P1", "mes": "0042"}]})
    mapping = compile_fields(
        tmp_path,
        "plant: {path: P, code_table: t, xref: plant, type: int}\n",
        "code_tables:\n  t: {values: {north: P1}, unknown: error}\n",
    )
    assert mapping({"P": "north"}, MappingContext(xref)) == {"plant": 42}


def test_expr_computes_and_if_leaves_fields_out(tmp_path: Path) -> None:
    mapping = compile_fields(
        tmp_path,
        """
        label: {expr: "concat(OrderNo, '/', upper(Type))"}
        amount: {expr: "multiply(Qty, Price)", type: number}
        urgent: {const: true, if: "Type == 'rush'"}
        lines:
          each: Lines
          fields:
            num: {expr: "pad_left(multiply(LineNo, `10`), `6`, '0')"}
            order: {expr: "root().OrderNo"}
            msg: {expr: "message().id"}
        """,
    )
    body = {"OrderNo": "SO1", "Type": "rush", "Qty": "2.5", "Price": "12.50"}
    body["Lines"] = [{"LineNo": 1}]
    ctx = MappingContext(StaticXref(), {"id": "m-1"})
    assert mapping(body, ctx) == {
        "label": "SO1/RUSH",
        "amount": 31.25,
        "urgent": True,
        "lines": [{"num": "000010", "order": "SO1", "msg": "m-1"}],
    }
    assert "urgent" not in mapping({**body, "Type": "normal"}, ctx)


def test_expr_that_yields_null_is_missing(tmp_path: Path) -> None:
    mapping = compile_fields(
        tmp_path,
        """
        num: {expr: "pad_left(multiply(LineNo, `10`), `6`, '0')"}
        must: {expr: "Nothing", required: true}
        """,
    )
    with pytest.raises(MappingError, match="required value is missing"):
        mapping({}, CTX)
