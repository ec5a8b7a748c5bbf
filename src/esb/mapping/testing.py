"""``run_mapping_test``: map a sample and compare it with the expected body, field by field.

Bodies are compared as JSON values: numbers by value (``120 == 120.0``, a
Decimal equals the float written the same way), key order free, list order
significant, ``true`` never equal to ``1``. Used by ``esb mapping test`` and the
HTTP preview.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from esb.errors import MappingError
from esb.mapping.engine import CompiledMapping, MappingContext
from esb.mapping.paths import Step, format_steps


class _Absent:
    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


#: Stands for "no such field" on one side of a difference.
ABSENT: Any = _Absent()


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Difference:
    """One field that differs; ``ABSENT`` on the side that lacks it."""

    path: str
    expected: Any
    actual: Any

    def describe(self) -> str:
        where = self.path or "(body)"
        if self.actual is ABSENT:
            return f"{where}: missing (expected {_show(self.expected)})"
        if self.expected is ABSENT:
            return f"{where}: not expected (got {_show(self.actual)})"
        return f"{where}: expected {_show(self.expected)}, got {_show(self.actual)}"


@dataclass(frozen=True)
class MappingTestResult:
    mapping: str
    expected: Any
    actual: Any = None
    differences: tuple[Difference, ...] = ()
    error: MappingError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.differences

    def diff_text(self) -> str:
        """A readable report: one line per differing field, or the mapping's error."""
        if self.error is not None:
            return f"{self.mapping}: the mapping failed: {self.error}"
        if not self.differences:
            return f"{self.mapping}: the output matches the expected body"
        count = len(self.differences)
        lines = [f"{self.mapping}: {count} difference{'s' if count > 1 else ''}"]
        lines.extend(f"  {d.describe()}" for d in self.differences)
        return "\n".join(lines)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def same_value(expected: Any, actual: Any) -> bool:
    """Equal as JSON scalars: numbers by value, booleans only to booleans."""
    if type(expected) is type(actual) and expected == actual:
        return True  # the same type and equal (the common case): no conversion needed
    left, right = _number(expected), _number(actual)
    if left is not None or right is not None:
        return left is not None and right is not None and left == right
    return type(expected) is type(actual) and bool(expected == actual)


def _walk(steps: tuple[Step, ...], expected: Any, actual: Any, out: list[Difference]) -> None:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected:
            if key in actual:
                _walk((*steps, key), expected[key], actual[key], out)
            else:
                out.append(Difference(format_steps((*steps, key)), expected[key], ABSENT))
        for key in actual:
            if key not in expected:
                out.append(Difference(format_steps((*steps, key)), ABSENT, actual[key]))
    elif isinstance(expected, list) and isinstance(actual, list):
        for index in range(max(len(expected), len(actual))):
            left = expected[index] if index < len(expected) else ABSENT
            right = actual[index] if index < len(actual) else ABSENT
            if left is ABSENT or right is ABSENT:
                out.append(Difference(format_steps((*steps, index)), left, right))
            else:
                _walk((*steps, index), left, right, out)
    elif not same_value(expected, actual):
        out.append(Difference(format_steps(steps), expected, actual))


def compare(expected: Any, actual: Any) -> list[Difference]:
    """Every difference between two JSON bodies, in the expected body's order."""
    out: list[Difference] = []
    _walk((), expected, actual, out)
    return out


def run_mapping_test(
    mapping: CompiledMapping, body: Any, expected: Any, ctx: MappingContext
) -> MappingTestResult:
    """Map ``body`` and compare with ``expected``; a mapping failure is a result, not a raise."""
    try:
        actual = mapping(body, ctx)
    except MappingError as exc:
        return MappingTestResult(mapping.name, expected, error=exc)
    differences = tuple(compare(expected, actual))
    return MappingTestResult(mapping.name, expected, actual, differences)
