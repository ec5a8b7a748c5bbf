"""type: conversions, strict where a guess would corrupt data."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from esb.connectors import json_default
from esb.mapping.convert import CONVERTERS, to_decimal, to_int, to_number, to_string
from esb.mapping.faults import Fault


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("int", "2.5"),
        ("int", "1_000"),
        ("int", True),
        ("int", "٣"),
        ("int", "1e999999999"),
        ("number", "NaN"),
        ("number", "inf"),
        ("number", "1,5"),
        ("number", ""),
        ("number", None),
        ("number", [1]),
        ("decimal", "12,50"),
        ("decimal", math.nan),
        ("bool", "maybe"),
        ("bool", 2),
        ("string", {"a": 1}),
        ("string", math.inf),
    ],
)
def test_refused_values(name: str, value: Any) -> None:
    with pytest.raises(Fault):
        CONVERTERS[name](value)


@given(st.integers(min_value=-(2**63), max_value=2**64 - 1))
def test_integers_survive_text(value: int) -> None:
    assert to_int(str(value)) == value
    assert to_number(str(value)) == value
    assert to_string(value) == str(value)


@given(st.one_of(st.integers(min_value=2**64), st.integers(max_value=-(2**63) - 1)))
def test_integers_beyond_64_bits_stay_exact_numbers_or_are_refused_as_int(value: int) -> None:
    """An encoder stops at 64 bits: ``number`` keeps such a value as an exact decimal (it is
    written digit for digit), ``int`` refuses it with a fault (the delivery parks)."""
    assert to_number(str(value)) == Decimal(value)
    assert orjson.dumps(to_number(str(value)), default=json_default) == str(value).encode()
    with pytest.raises(Fault, match="64-bit"):
        to_int(str(value))
    with pytest.raises(Fault, match="64-bit"):
        to_int(float(value) if abs(value) < 1e308 else value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_survive_text(value: float) -> None:
    assert to_number(repr(value)) == value
    assert to_decimal(repr(value)) == Decimal(repr(value))
    assert float(to_string(value)) == value


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4))
def test_decimal_text_is_kept_exactly(value: Decimal) -> None:
    assert to_decimal(str(value)) == value
    assert to_decimal(format(value, "f")) == value


@given(value=st.text(max_size=30) | st.integers() | st.floats() | st.booleans() | st.none())
def test_every_converter_returns_or_faults(value: Any) -> None:
    for name, convert in CONVERTERS.items():
        try:
            convert(value)
        except Fault as fault:
            problem = fault.message
        else:
            problem = "converted"
        assert problem, name
