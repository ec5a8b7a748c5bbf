"""The demo's production-report-to-finance mapping: an MES completion row becomes exactly the
Model Kingdee receives (expected/kingdee_PRD_INSTOCK_*.json)."""

from __future__ import annotations

from typing import Any

import pytest

from esb.errors import XrefMissing
from esb.mapping import MappingContext, MappingSet, StaticXref, load_mappings, run_mapping_test
from tests.unit.mapping.helpers import DEMO, SCENARIO, read_json

EXPECTED = SCENARIO / "expected"

# The mes_completion rows of inputs/mes_completion.*.sql as the staging-table source reads them
# (DECIMAL columns as exact decimal text, finished_at in ISO 8601 with the factory's offset).
ROWS: dict[int, dict[str, Any]] = {
    1: {
        "id": 1,
        "work_order": "WO-20261124-0001",
        "material_code": "100-2001",
        "qty_good": "120.000",
        "qty_scrap": "0.000",
        "line_code": "L1",
        "finished_at": "2026-11-25T14:30:00+08:00",
        "operator_name": "张伟",
    },
    2: {
        "id": 2,
        "work_order": "WO-20261124-0002",
        "material_code": "100-3002",
        "qty_good": "2.500",
        "qty_scrap": "0.100",
        "line_code": "L2",
        "finished_at": "2026-11-25T16:05:00+08:00",
        "operator_name": "李娜",
    },
}


@pytest.fixture(scope="module")
def mappings() -> MappingSet:
    return load_mappings(DEMO, {})


@pytest.fixture
def ctx() -> MappingContext:
    return MappingContext(StaticXref.from_masterdata(SCENARIO / "masterdata"))


@pytest.mark.parametrize("row", [1, 2])
def test_a_completion_row_gives_the_exact_kingdee_model(
    mappings: MappingSet, ctx: MappingContext, row: int
) -> None:
    expected = read_json(EXPECTED / f"kingdee_PRD_INSTOCK_MES-CPL-{row}.json")
    finance = mappings.get("production-report-to-finance")
    assert (finance.source_system, finance.target_system) == ("mes", "finance")
    result = run_mapping_test(finance, ROWS[row], expected["Model"], ctx)
    assert result.ok, result.diff_text()
    assert list(result.actual) == list(expected["Model"]), "keys in the mapping's order"


def test_numbers_from_the_database_give_the_same_model(
    mappings: MappingSet, ctx: MappingContext
) -> None:
    """A driver that gives DECIMAL columns as numbers makes the same bill."""
    expected = read_json(EXPECTED / "kingdee_PRD_INSTOCK_MES-CPL-2.json")
    row = {**ROWS[2], "qty_good": 2.5, "qty_scrap": 0.1}
    result = run_mapping_test(
        mappings.get("production-report-to-finance"), row, expected["Model"], ctx
    )
    assert result.ok, result.diff_text()


def test_an_unknown_material_is_missing_from_the_cross_reference(
    mappings: MappingSet, ctx: MappingContext
) -> None:
    row = {**ROWS[1], "id": 3, "material_code": "100-9999"}
    with pytest.raises(XrefMissing) as caught:
        mappings.get("production-report-to-finance")(row, ctx)
    error = caught.value
    assert (error.domain, error.from_system, error.to_system, error.code) == (
        "material",
        "mes",
        "finance",
        "100-9999",
    )
