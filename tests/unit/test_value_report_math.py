"""The value report's pure parts: months, the rounded times and their median, the field a
refusal counts under, minutes_per_document in YAML, and every door's refusals told."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from esb.config.loader import load_config
from esb.connectors import load_registry
from esb.errors import ConfigError, ValidationFailed
from esb.ingress import Ingress
from esb.store.accept import Accepted, NewMessage
from esb.store.refusals import field_counted
from esb.store.value import bucket
from esb.value_report import Month, median, parse_period
from tests.support.gateway import write_config


def test_a_period_is_a_month_of_the_factory() -> None:
    assert parse_period("2026-11", date(2030, 1, 1)) == Month(2026, 11)
    assert parse_period(None, date(2026, 12, 6)) == Month(2026, 12)
    assert (Month(2026, 2).first, Month(2026, 2).last) == (date(2026, 2, 1), date(2026, 2, 28))
    assert Month(2028, 2).last == date(2028, 2, 29)
    assert Month(2026, 12).last == date(2026, 12, 31)
    assert Month(2026, 1).label == "2026-01"
    for bad, words in (("2026-13", "does not exist"), ("2026-1", "YYYY-MM"), ("1999-01", "year")):
        with pytest.raises(ValueError, match=words):
            parse_period(bad, date(2026, 1, 1))


@pytest.mark.parametrize(
    ("ms", "rounded"),
    [(0.4, 0), (12.99, 12), (999.999, 999), (1000.0, 1000), (1234.5, 1230), (99_999, 99_900),
     (82_800_123, 82_800_000), (-5.0, 0)],
)  # fmt: skip
def test_times_keep_three_figures(ms: float, rounded: int) -> None:
    assert bucket(ms) == rounded


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False))
def test_rounding_is_down_and_within_one_percent(ms: float) -> None:
    rounded = bucket(ms)
    assert rounded <= ms
    assert ms - rounded < max(1.0, ms / 100)


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=60))
def test_the_median_of_a_histogram_is_the_median_of_its_values(values: list[int]) -> None:
    assert median(Counter(values)) == statistics.median(values)


def test_no_values_no_median() -> None:
    assert median(Counter()) is None


def test_a_refusal_counts_under_its_field_whatever_the_line() -> None:
    assert field_counted("Lines[12].Qty") == "Lines[].Qty"
    assert field_counted("Lines[0].Serials[3]") == "Lines[].Serials[]"
    assert field_counted(None) == ""
    assert field_counted("x" * 500) == "x" * 200


INTERFACE = """
interfaces:
  sales-order:
    source: erp
    message_type: sales_order
    minutes_per_document: {minutes}
    targets:
      mes: {{connector: {{kind: rest, url: "http://mes"}}}}
"""


@pytest.mark.parametrize("minutes", ["0", "-1", "1441", "lots"])
def test_minutes_per_document_is_a_positive_number_of_minutes(tmp_path: Path, minutes: str) -> None:
    folder = write_config(tmp_path, INTERFACE.format(minutes=minutes))
    with pytest.raises(ConfigError) as caught:
        load_config(folder, load_registry(), {})
    [problem] = caught.value.problems
    assert "interfaces.sales-order.minutes_per_document" in problem


def test_minutes_per_document_is_read(tmp_path: Path) -> None:
    folder = write_config(tmp_path, INTERFACE.format(minutes="2.5"))
    assert (
        load_config(folder, load_registry(), {}).interfaces["sales-order"].minutes_per_document
        == 2.5
    )
    without = INTERFACE.format(minutes=1).replace("    minutes_per_document: 1\n", "")
    folder = write_config(tmp_path / "none", without)
    interface = load_config(folder, load_registry(), {}).interfaces["sales-order"]
    assert interface.minutes_per_document is None


class Told:
    """Records what the ingress says was refused."""

    def __init__(self) -> None:
        self.refused: list[tuple[str, list[str | None]]] = []

    async def __call__(self, interface: str, refused: Sequence[ValidationFailed]) -> None:
        self.refused.append((interface, [exc.field for exc in refused]))


async def _never(_: Any) -> Accepted:
    raise AssertionError("nothing valid was sent")


async def _never_many(_: Sequence[NewMessage]) -> list[Accepted | Exception]:
    return []


@pytest.fixture
def ingress(tmp_path: Path) -> tuple[Ingress, Told]:
    schema = '{"type": "object", "properties": {"Qty": {"type": "number"}}}'
    write_config(tmp_path, INTERFACE.format(minutes=1) + "    schema: order.json\n")
    (tmp_path / "order.json").write_text(schema)
    config = load_config(tmp_path, load_registry(), {})
    told = Told()
    return Ingress(_never, _never_many, lambda: config, lambda: None, refused=told), told


async def test_every_door_tells_of_its_refusals(ingress: tuple[Ingress, Told]) -> None:
    door, told = ingress
    with pytest.raises(ValidationFailed):
        await door.accept("erp", "sales_order", b'{"Qty": "x"}', None, None)
    with pytest.raises(ValidationFailed):
        await door.accept("erp", "sales_order", b"{", None, None)
    with pytest.raises(ValidationFailed):
        await door.accept_document("sales-order", {"Qty": []})
    answers = await door.accept_documents(
        "sales-order", [({"Qty": "a"}, None), ({"Qty": "b"}, None)]
    )
    assert all(isinstance(a, ValidationFailed) for a in answers)
    assert told.refused == [
        ("sales-order", ["Qty"]),
        ("sales-order", [None]),
        ("sales-order", ["Qty"]),
        ("sales-order", ["Qty", "Qty"]),
    ]
