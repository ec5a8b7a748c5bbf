"""``flow:`` of a system in systems.yaml: defaults, units, and precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from esb.config.flow import parse_rate
from tests.support.flow import systems_with_flow
from tests.support.gateway import rest_interface, write_config
from tests.unit.test_config import load, problems


def config_with(tmp_path: Path, flow: str) -> Path:
    return write_config(tmp_path, rest_interface("${MES_URL}"), systems_with_flow(flow))


def test_no_flow_section_means_no_limit(tmp_path: Path) -> None:
    config = load(write_config(tmp_path, rest_interface("${MES_URL}")))
    assert config.systems["mes"].flow is None


def test_the_issue_s_example_with_its_units(tmp_path: Path) -> None:
    flow = """
max_in_flight: 2
rate: 600/min
breaker: {failures: 5, ratio: 0.5, window: 1m, cool_down: 30s}
"""
    spec = load(config_with(tmp_path, flow)).systems["mes"].flow
    assert spec is not None
    assert spec.breaker is not None
    assert (spec.max_in_flight, spec.rate) == (2, 10.0)
    assert (spec.breaker.failures, spec.breaker.ratio) == (5, 0.5)
    assert (spec.breaker.window, spec.breaker.cool_down) == (60.0, 30.0)


def test_breaker_defaults(tmp_path: Path) -> None:
    spec = load(config_with(tmp_path, "breaker: {}")).systems["mes"].flow
    assert spec is not None
    assert spec.breaker is not None
    assert (spec.max_in_flight, spec.rate) == (None, None)
    assert (spec.breaker.failures, spec.breaker.ratio, spec.breaker.cool_down) == (5, None, 30.0)


def test_bad_values_are_named_precisely(tmp_path: Path) -> None:
    flow = "rate: fast\nmax_in_flight: 0\nbreaker: {failures: x, cool_down: soon, ratio: 2}"
    found = "\n".join(problems(config_with(tmp_path, flow)))
    assert "systems.yaml:7: systems.mes.flow.rate: 'fast' is not a rate" in found
    assert "systems.mes.flow.max_in_flight: must be at least 1" in found
    assert "systems.mes.flow.breaker.failures: must be a whole number" in found
    assert "systems.mes.flow.breaker.ratio: must be at most 1" in found
    assert "systems.mes.flow.breaker.cool_down: 'soon' is not a duration" in found


def test_an_unknown_flow_key_is_refused(tmp_path: Path) -> None:
    found = "\n".join(problems(config_with(tmp_path, "max_inflight: 2")))
    assert "systems.mes.flow.max_inflight" in found


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("20/s", 20.0), ("600/min", 10.0), ("1/m", 1 / 60), ("3600/h", 1.0), ("2.5 / sec", 2.5)],
)
def test_rates(text: str, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["fast", "0/s", "20", "20/d", "-1/s", "", "20/s/s"])
def test_not_rates(text: str) -> None:
    with pytest.raises(ValueError, match="rate"):
        parse_rate(text)


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(["s", "min", "h"]))
def test_a_rate_is_its_count_over_its_unit(count: int, unit: str) -> None:
    seconds = {"s": 1, "min": 60, "h": 3600}[unit]
    assert parse_rate(f"{count}/{unit}") == pytest.approx(count / seconds)
