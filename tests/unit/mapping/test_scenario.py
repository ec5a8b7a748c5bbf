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
