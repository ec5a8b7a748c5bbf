"""The bytes of a file in each format: json as the finance import expects, csv, xml."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from lxml import etree

from esb_file import FileConfig
from esb_file.formats import FormatProblem, render

SCENARIO = Path(__file__).resolve().parents[3] / "tests" / "data" / "scenario"


def config(**options: Any) -> FileConfig:
    return FileConfig.model_validate({"folder": "out", "filename": "x.dat", **options})


@pytest.mark.parametrize("order", ["SO-20261124-0001", "SO-20261124-0003"])
def test_json_is_byte_for_byte_the_finance_vector(order: str) -> None:
    expected = (SCENARIO / "expected" / f"finance_INV-{order}.json").read_bytes()
    assert render(orjson.loads(expected), config()) == expected


def test_json_keeps_decimals_exact_and_can_be_compact() -> None:
    body = {"amount": Decimal("2.50"), "n": [1, None, True]}
    assert render(body, config(pretty=False)) == b'{"amount":2.50,"n":[1,null,true]}\n'


def test_csv_has_a_header_and_one_row_in_the_configured_encoding() -> None:
    body = {"order_no": "SO-1", "carrier": "顺丰速运", "qty": Decimal("40.0"), "ok": True,
            "note": None}  # fmt: skip
    cfg = config(format="csv", encoding="gb18030", csv={"delimiter": ";"})
    text = render(body, cfg).decode("gb18030")
    assert text == "order_no;carrier;qty;ok;note\r\nSO-1;顺丰速运;40.0;true;\r\n"


def test_csv_columns_line_ends_and_quoting() -> None:
    rows = [{"b": 'say "hi"', "a": 1}, {"a": 2, "b": "x,y"}]
    cfg = config(format="csv", csv={"columns": ["a", "b"], "line_end": "lf", "header": False})
    assert render(rows, cfg) == b'1,"say ""hi"""\n2,"x,y"\n'


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"lines": [1, 2]}, "csv cell lines holds a list"),
        ("text", "needs an object"),
        ([], "needs an object"),
    ],
)
def test_csv_refuses_bodies_that_are_not_rows(body: Any, says: str) -> None:
    with pytest.raises(FormatProblem, match=says):
        render(body, config(format="csv"))


def test_text_the_encoding_cannot_hold_is_refused() -> None:
    with pytest.raises(FormatProblem, match="'顺丰' cannot be written in latin-1"):
        render({"carrier": "顺丰"}, config(encoding="latin-1"))


def test_xml_nests_objects_and_repeats_lists() -> None:
    body = {"OrderNo": "SO-1", "Lines": {"Line": [{"Sku": "A", "Qty": 4}, {"Sku": "B"}]},
            "Note": None, "Urgent": False}  # fmt: skip
    ns = "urn:invoice"
    cfg = config(format="xml", xml={"root": "Invoice", "namespace": ns}, pretty=False)
    root = etree.fromstring(render(body, cfg))
    assert root.tag == f"{{{ns}}}Invoice"
    assert root.nsmap == {None: ns}
    assert [e.findtext(f"{{{ns}}}Sku") for e in root.iter(f"{{{ns}}}Line")] == ["A", "B"]
    assert root.findtext(f"{{{ns}}}Urgent") == "false"
    assert root.findtext(f"{{{ns}}}Note") == ""


def test_xml_list_body_and_encoding_declaration() -> None:
    cfg = config(format="xml", encoding="gb18030", xml={"root": "Rows", "item": "Row"})
    data = render([{"c": "顺丰"}], cfg)
    assert data.startswith(b"<?xml version='1.0' encoding='gb18030'?>")
    assert etree.fromstring(data).findtext("Row/c") == "顺丰"


@pytest.mark.parametrize("body", [{"1bad": "x"}, {"a b": "x"}, {"ok": "\x01"}])
def test_xml_refuses_what_cannot_be_xml(body: Any) -> None:
    with pytest.raises(FormatProblem):
        render(body, config(format="xml"))


def test_config_checks_encoding_xml_names_and_delimiter() -> None:
    with pytest.raises(ValueError, match="unknown encoding"):
        config(encoding="klingon")
    with pytest.raises(ValueError, match="not an XML element name"):
        config(xml={"root": "1x"})
    with pytest.raises(ValueError, match="at most 1 character"):
        config(csv={"delimiter": ";;"})
