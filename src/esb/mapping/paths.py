"""Source paths such as ``Lines[0].Qty``: parsed once, read by a small closure.

Plain paths never go through the expression interpreter at run time: a path
becomes a getter that walks dicts and lists directly. A missing key, a wrong
container or an index out of range reads as ``None`` (missing), the same as
JMESPath, so a path and the equivalent expression always agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from esb.errors import MappingError

Step = str | int
#: ``getter(scope, root)``: the value, or None when it is missing.
Getter = Callable[[Any, Any], Any]

ROOT = "$"
CURRENT = "@"
_TOKEN = re.compile(r'\.|\[(-?[0-9]+)\]|"((?:[^"\\]|\\.)*)"|([^.\[\]"]+)')


class PathError(MappingError):
    """A path is not written correctly."""


@dataclass(frozen=True)
class SourcePath:
    """A parsed path: from the root (``$.``) or the current record, then keys and indexes."""

    text: str
    steps: tuple[Step, ...]
    from_root: bool = False

    @property
    def key(self) -> str | None:
        """The one key of a path such as ``Qty`` (the common case, read inline), else None."""
        return self.steps[0] if len(self.steps) == 1 and isinstance(self.steps[0], str) else None

    @property
    def shown(self) -> str:
        """The path as errors show it, without the ``$.`` root marker."""
        return format_steps(self.steps)


def format_steps(steps: tuple[Step, ...]) -> str:
    out = ""
    for step in steps:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def _start(text: str) -> tuple[bool, str]:
    """Split off a leading ``$`` (root) or ``@`` (current record)."""
    for marker, from_root in ((ROOT, True), (CURRENT, False)):
        if text == marker:
            return from_root, ""
        if text.startswith((marker + ".", marker + "[")):
            rest = text[1:]
            return from_root, rest[1:] if rest.startswith(".") else rest
    return False, text


def _tokens(text: str) -> list[Step]:
    steps: list[Step] = []
    expect_key = True
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise PathError(f"unexpected {text[pos]!r} at position {pos + 1}")
        token, index, quoted, plain = match.group(0), match.group(1), match.group(2), match.group(3)
        if token == ".":
            if expect_key:
                raise PathError(f"a key is missing before the dot at position {pos + 1}")
            expect_key = True
        elif index is not None:
            if expect_key and steps:
                raise PathError(f"an index cannot follow a dot (position {pos + 1})")
            steps.append(int(index))
            expect_key = False
        else:
            if not expect_key:
                raise PathError(f"a dot is missing before {token!r}")
            steps.append(plain if plain is not None else re.sub(r"\\(.)", r"\1", quoted))
            expect_key = False
        pos = match.end()
    if expect_key and steps:
        raise PathError("the path ends with a dot")
    return steps


def parse_path(text: str) -> SourcePath:
    """``Lines[0].Qty``, ``$.OrderNo`` (from the root), ``@`` (the record), ``"Order No"``."""
    if not text:
        raise PathError("the path is empty")
    from_root, rest = _start(text)
    return SourcePath(text=text, steps=tuple(_tokens(rest)), from_root=from_root)


def read_key(record: Any, key: str) -> Any:
    """``record[key]``, or None when ``record`` is no object (lists and text have no ``get``)."""
    try:
        return record.get(key)
    except AttributeError:
        return None


def _key_getter(key: str, from_root: bool) -> Getter:
    if from_root:
        return lambda scope, root: read_key(root, key)

    def get(scope: Any, root: Any) -> Any:
        try:
            return scope.get(key)
        except AttributeError:
            return None

    return get


def _walk(value: Any, steps: tuple[Step, ...]) -> Any:
    for step in steps:
        if isinstance(step, str):
            value = value.get(step) if isinstance(value, dict) else None
        elif isinstance(value, list) and -len(value) <= step < len(value):
            value = value[step]
        else:
            return None
        if value is None:
            return None
    return value


def getter(path: SourcePath) -> Getter:
    """A closure reading ``path``; one key (the common case) gets its own fast closure."""
    steps = path.steps
    if path.key is not None:
        return _key_getter(path.key, path.from_root)
    if not steps:
        return (lambda scope, root: root) if path.from_root else (lambda scope, root: scope)
    if path.from_root:
        return lambda scope, root: _walk(root, steps)
    return lambda scope, root: _walk(scope, steps)
