"""The planner that decides each row of an import (or a PUT) against the entities it can touch."""

from __future__ import annotations

import pytest

from esb.errors import Conflict
from esb.store.xref_plan import EntitySet
from esb.store.xref_sql import SqliteCodes


def plan(found: EntitySet, row: dict[str, str]) -> None:
    key, code = next(iter(row.items()))
    found.plan(key, code, row, empty_removes=False)


def test_a_code_given_up_by_one_row_is_free_for_a_later_row() -> None:
    found = EntitySet(SqliteCodes())
    plan(found, {"erp": "C1", "mes": "900123"})
    plan(found, {"erp": "C1", "mes": "900999"})  # C1 gives up 900123...
    plan(found, {"erp": "C5", "mes": "900123"})  # ... which C5 may take
    assert {found.describe(e) for e in found.entities} == {
        "erp 'C1', mes '900999'",
        "erp 'C5', mes '900123'",
    }


def test_a_code_another_entity_still_has_is_a_conflict_that_names_it() -> None:
    found = EntitySet(SqliteCodes())
    plan(found, {"erp": "C1", "mes": "900123", "wms": "W1"})
    with pytest.raises(Conflict) as conflict:
        plan(found, {"erp": "C2", "mes": "900123", "wms": ""})
    assert str(conflict.value) == (
        "mes code '900123' already names another entity (erp 'C1', mes '900123', wms 'W1')"
    )
