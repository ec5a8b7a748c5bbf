"""The difference of two configurations, for the audit trail: only what changed, each
value at its dotted path (``interfaces.sales-order.targets.mes.connector.url``).

``before`` holds the old value of every path that changed or went away, ``after`` the
new value of every path that changed or came: a path only in ``after`` was added, only
in ``before`` removed. A whole interface, target or mapping added or removed is one
path. A changed secret is at its path on both sides, shown as ``***``.
"""

from __future__ import annotations

from typing import Any

from esb.config.summary import shown

Values = dict[str, Any]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _walk(path: str, old: Any, new: Any, before: Values, after: Values) -> None:
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            inner = _join(path, key)
            if key not in new:
                before[inner] = shown(old[key])
            elif key not in old:
                after[inner] = shown(new[key])
            else:
                _walk(inner, old[key], new[key], before, after)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            _walk(f"{path}[{index}]", a, b, before, after)
        return
    before[path] = shown(old)
    after[path] = shown(new)


def changes(old: Any, new: Any) -> tuple[Values, Values]:
    """(before, after): the old and the new values of what differs, by path."""
    before: Values = {}
    after: Values = {}
    _walk("", old, new, before, after)
    return before, after
