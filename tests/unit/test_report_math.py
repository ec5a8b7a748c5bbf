"""Percentiles are percentile_cont: checked against the standard library on any data."""

from __future__ import annotations

import statistics

from hypothesis import given
from hypothesis import strategies as st

from esb.store.stats import percentile

values = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=2, max_size=300)


@given(values, st.integers(min_value=1, max_value=99))
def test_percentile_matches_inclusive_quantiles(data: list[float], p: int) -> None:
    data.sort()
    expected = statistics.quantiles(data, n=100, method="inclusive")[p - 1]
    assert abs(percentile(data, p / 100) - expected) <= 1e-6 * max(1.0, abs(expected))  # type: ignore[operator]


def test_edges() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
