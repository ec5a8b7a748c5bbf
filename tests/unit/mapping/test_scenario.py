"""The demo factory's mappings and input schemas against the scenario's exact vectors."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from esb.errors import XrefMissing
from esb.mapping import (
    InputValidator,
    MappingContext,
    MappingSet,
    StaticXref,
    load_input_schema,
    load_mappings,
    run_mapping_test,
)
from tests.unit.mapping.helpers import DEMO, SCENARIO, read_json

INPUTS, EXPECTED = SCENARIO / "inputs", SCENARIO / "expected"


@pytest.fixture(scope="module")
def mappings() -> MappingSet:
    return load_mappings(DEMO, {})


@pytest.fixture
def ctx() -> MappingContext:
    return MappingContext(StaticXref.from_masterdata(SCENARIO / "masterdata"))


def schema(name: str) -> InputValidator:
    return load_input_schema(DEMO / "schemas" / f"{name}.schema.json")


def shipment_rows(name: str) -> list[dict[str, str]]:
    text = (INPUTS / name).read_bytes().decode("gb18030")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_the_demo_folder_has_exactly_these_mappings(mappings: MappingSet) -> None:
    assert mappings.names() == [
        "production-report-to-erp",
        "production-report-to-finance",
        "sales-order-to-mes",
        "sales-order-to-wms",
        "shipment-to-erp",
        "shipment-to-finance",
    ]
    mes = mappings.get("sales-order-to-mes")
    assert (mes.source_system, mes.target_system) == ("erp", "mes")
    assert mes.xref_domains == frozenset({"customer", "material"})


@pytest.mark.parametrize("case", ["normal", "urgent", "sample"])
def test_sales_order_gives_the_exact_mes_work_order(
    mappings: MappingSet, ctx: MappingContext, case: str
) -> None:
    body = read_json(INPUTS / f"sales_order_{case}.json")
    expected = read_json(EXPECTED / f"mes_work_order_{case}.json")
    result = run_mapping_test(mappings.get("sales-order-to-mes"), body, expected, ctx)
    assert result.ok, result.diff_text()
    assert list(result.actual) == list(expected), "keys come out in the mapping's order"


def test_unknown_customer_parks_then_maps_after_the_fix(
    mappings: MappingSet, ctx: MappingContext
) -> None:
    body = read_json(INPUTS / "sales_order_unknown_customer.json")
    mes = mappings.get("sales-order-to-mes")
    with pytest.raises(XrefMissing) as caught:
        mes(body, ctx)
    error = caught.value
    assert (error.domain, error.from_system, error.to_system, error.code) == (
        "customer",
        "erp",
        "mes",
        "C9999",
    )
    assert error.path == "CustCode"
    assert "customer" in str(error)
    assert "C9999" in str(error)

    assert isinstance(ctx.xref, StaticXref)
    ctx.xref.add("customer", {"erp": "C9999", "mes": "900999"})
    expected = read_json(EXPECTED / "mes_work_order_unknown_customer_after_fix.json")
    result = run_mapping_test(mes, body, expected, ctx)
    assert result.ok, result.diff_text()


def _xml_as_data(element: ET.Element) -> Any:
    """``<Lines><Line>..</Line></Lines>`` as the dict a SOAP client is given: text or children."""
    children = list(element)
    if not children:
        return element.text
    out: dict[str, Any] = {}
    for child in children:
        tag = child.tag.split("}")[1]
        value = _xml_as_data(child)
        if tag == "Line":
            out.setdefault(tag, []).append(value)
        else:
            out[tag] = value
    return out


def test_urgent_order_gives_the_wms_pick_request(mappings: MappingSet, ctx: MappingContext) -> None:
    body = read_json(INPUTS / "sales_order_urgent.json")
    actual = mappings.get("sales-order-to-wms")(body, ctx)
    expected_xml = _xml_as_data(ET.parse(EXPECTED / "wms_pick_request_urgent.xml").getroot())
    assert actual == {
        "OrderNo": "SO-20261124-0002",
        "CustomerCode": "CUST-02",
        "Priority": 1,
        "RequiredDate": "2026-11-26",
        "Lines": {"Line": [{"Sku": "SKU1001", "Qty": 40, "Uom": "EA"}]},
    }
    as_text = {k: v if isinstance(v, dict) else str(v) for k, v in actual.items()}
    as_text["Lines"] = {
        "Line": [{k: str(v) for k, v in line.items()} for line in actual["Lines"]["Line"]]
    }
    assert as_text == expected_xml, "element by element, as XML text"
    assert list(actual) == list(expected_xml), "the WSDL's sequence order"


@pytest.mark.parametrize(
    ("file", "row", "status_file", "invoice_file"),
    [
        ("wms_shipments_20261125.csv", 0, "erp_order_status_1", "finance_INV-SO-20261124-0001"),
        ("wms_shipments_20261125.csv", 1, "erp_order_status_2", None),
        (
            "wms_shipments_20261126_partly_bad.csv",
            0,
            "erp_order_status_3",
            "finance_INV-SO-20261124-0003",
        ),
    ],
)
def test_shipment_rows_give_erp_status_and_finance_invoice(
    mappings: MappingSet,
    ctx: MappingContext,
    file: str,
    row: int,
    status_file: str,
    invoice_file: str | None,
) -> None:
    body = shipment_rows(file)[row]
    assert schema("shipment_row").validate(body) == []
    expected = read_json(EXPECTED / f"{status_file}.json")
    result = run_mapping_test(mappings.get("shipment-to-erp"), body, expected, ctx)
    assert result.ok, result.diff_text()
    if invoice_file is not None:  # only shipped (S) rows are routed to finance
        expected = read_json(EXPECTED / f"{invoice_file}.json")
        result = run_mapping_test(mappings.get("shipment-to-finance"), body, expected, ctx)
        assert result.ok, result.diff_text()


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("missing_order_no", "OrderNo"),
        ("no_lines", "Lines"),
        ("qty_not_a_number", "Lines[1].Qty"),
        ("unknown_order_type", "OrderType"),
        ("bad_delivery_date", "DeliveryDate"),
    ],
)
def test_each_invalid_order_is_refused_naming_its_field(case: str, field: str) -> None:
    problems = schema("sales_order").validate(read_json(INPUTS / f"invalid_{case}.json"))
    assert [p.field for p in problems] == [field], problems


@pytest.mark.parametrize("path", sorted(INPUTS.glob("sales_order_*.json")), ids=lambda p: p.stem)
def test_every_valid_order_passes_the_door(path: Path) -> None:
    assert schema("sales_order").validate(read_json(path)) == []


def test_bad_shipment_rows_are_refused_naming_the_field() -> None:
    good, bad_status, bad_time = shipment_rows("wms_shipments_20261126_partly_bad.csv")
    validator = schema("shipment_row")
    assert validator.validate(good) == []
    assert [p.field for p in validator.validate(bad_status)] == ["status"]
    [problem] = validator.validate(bad_time)
    assert problem.field == "ship_date"
    assert "not-a-time" in problem.message


#: Rows 1-4 of inputs/mes_completion.*.sql as the sql-poll source makes them documents
#: (DECIMAL as JSON numbers, finished_at read in Asia/Shanghai, sync columns left out).
COMPLETIONS = [
    {"id": 1, "work_order": "WO-20261124-0001", "material_code": "100-2001", "qty_good": 120,
     "qty_scrap": 0, "line_code": "L1", "finished_at": "2026-11-25T14:30:00+08:00",
     "operator_name": "张伟"},
    {"id": 2, "work_order": "WO-20261124-0002", "material_code": "100-3002", "qty_good": 2.5,
     "qty_scrap": 0.1, "line_code": "L2", "finished_at": "2026-11-25T16:05:00+08:00",
     "operator_name": "李娜"},
    {"id": 3, "work_order": "WO-20261124-0003", "material_code": "100-9999", "qty_good": 10,
     "qty_scrap": 0, "line_code": "L1", "finished_at": "2026-11-25T17:20:00+08:00",
     "operator_name": "王强"},
    {"id": 4, "work_order": "WO-20261124-0004", "material_code": "100-2001", "qty_good": -5,
     "qty_scrap": 0, "line_code": "L3", "finished_at": "2026-11-25T18:00:00+08:00",
     "operator_name": "赵敏"},
]  # fmt: skip


@pytest.mark.parametrize("row", [1, 2])
def test_a_completion_gives_the_exact_erp_production_receipt(
    mappings: MappingSet, ctx: MappingContext, row: int
) -> None:
    expected = read_json(EXPECTED / f"erp_production_receipt_{row}.json")
    to_erp = mappings.get("production-report-to-erp")
    result = run_mapping_test(to_erp, COMPLETIONS[row - 1], expected, ctx)
    assert result.ok, result.diff_text()
    assert to_erp(COMPLETIONS[row - 1], ctx) == expected  # numbers as numbers, not text


def test_an_unknown_material_parks_naming_the_domain_and_the_code(
    mappings: MappingSet, ctx: MappingContext
) -> None:
    with pytest.raises(XrefMissing) as caught:
        mappings.get("production-report-to-erp")(COMPLETIONS[2], ctx)
    assert (caught.value.domain, caught.value.code) == ("material", "100-9999")


def test_the_completion_schema_refuses_a_negative_good_quantity_by_name() -> None:
    validator = schema("production_report")
    assert [validator.validate(row) for row in COMPLETIONS[:3]] == [[], [], []]
    assert [p.field for p in validator.validate(COMPLETIONS[3])] == ["qty_good"]
