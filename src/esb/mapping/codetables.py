"""Code tables: one system's code to another's (``PCS`` -> ``EA``), with an explicit unknown policy.

A table is either inline in a mapping (``code_tables:``) or shared in
``code-tables/<name>.yaml``. What happens to a code the table does not list is
always written down: ``error`` (the delivery is parked), ``default`` (use the
table's ``default``) or ``pass`` (keep the code as it is).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from esb.mapping.faults import Fault, show

Unknown = Literal["error", "default", "pass"]
Converter = Callable[[Any], Any]


def code_of(value: Any) -> str | None:
    """Codes are text; a whole number (``1``) is looked up as ``"1"``."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def table_converter(
    name: str, values: Mapping[str, Any], unknown: Unknown, default: Any = None
) -> Converter:
    """A closure translating one code through the table ``name``."""
    table = dict(values)
    absent = object()

    def miss(value: Any) -> Any:
        if unknown == "pass":
            return value
        if unknown == "default":
            return default
        raise Fault(f"code {show(value)} is not in code table {name!r}")

    def convert(value: Any) -> Any:
        code = value if type(value) is str else code_of(value)
        if code is None:
            raise Fault(f"code table {name!r} translates codes (text), not {show(value)}")
        found = table.get(code, absent)
        return miss(value) if found is absent else found

    return convert
