"""StaticXref and the masterdata CSV format: a header of systems, one row per entity."""

from __future__ import annotations

import pytest

from esb.errors import ConfigError
from esb.mapping import StaticXref, XrefLookup, parse_masterdata
from tests.unit.mapping.helpers import DEMO, SCENARIO


def test_scenario_masterdata_in_every_direction() -> None:
    xref: XrefLookup = StaticXref.from_masterdata(SCENARIO / "masterdata")
    assert xref.lookup("customer", "erp", "mes", "C0002") == "900456"
    assert xref.lookup("customer", "wms", "erp", "CUST-01") == "C0001"
    assert xref.lookup("material", "erp", "wms", "MAT-3003") == "SKU3003"
    assert xref.lookup("material", "erp", "mes", "MAT-9") is None
    assert xref.lookup("vendor", "erp", "mes", "C0001") is None


def test_an_empty_cell_is_no_code() -> None:
    xref = StaticXref({"customer": parse_masterdata("\ufefferp,mes,wms\nC1,,W1\n\n")})
    assert xref.lookup("customer", "erp", "mes", "C1") is None
    assert xref.lookup("customer", "erp", "wms", "C1") == "W1"


def test_add_replaces_an_entity() -> None:
    xref = StaticXref()
    xref.add("customer", {"erp": "C9999", "mes": "900999"})
    assert xref.lookup("customer", "mes", "erp", "900999") == "C9999"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "x.csv:1: the header must name each system once"),
        ("erp,erp\n", "x.csv:1: the header must name each system once"),
        ("erp,mes\nC1\n", "x.csv:2: 1 columns, the header has 2"),
    ],
)
def test_bad_csv_names_file_and_line(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_masterdata(text, source="x.csv")
    assert caught.value.problems == [problem]


def test_demo_masterdata_is_the_scenarios() -> None:
    demo = DEMO / "masterdata"
    for name in ("customer.csv", "material.csv"):
        assert (demo / name).read_text() == (SCENARIO / "masterdata" / name).read_text()
