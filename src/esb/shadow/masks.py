"""Field paths a parallel run does not compare (``ignore:``): volatile fields, such as a
timestamp or a number the target generates, differ on every run and say nothing about
the mapping.

A mask is written like a path of the output: ``sentAt``, ``header.stamp``,
``items[*].printedAt`` (``[*]`` is any item, ``[0]`` the first), ``"key with.dot"``. It
covers the field and everything under it. Masks match the paths ``esb.mapping.compare``
reports (``items[1].quantity``), so the comparison itself is the one ``esb mapping test``
and ``esb mapping diff`` use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TOKEN = re.compile(r'\.|\[(\*|[0-9]+)\]|"((?:[^"\\]|\\.)*)"|([^.\[\]"\s]+)')
_INDEX = re.compile(r"\[[0-9]+\]")
#: The name a difference of the whole body is counted under.
WHOLE_BODY = "(body)"


def _pieces(text: str) -> list[str]:
    """The regular-expression pieces of one mask; ValueError names what is wrong."""
    pieces: list[str] = []
    expect_key, pos = True, 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ValueError(f"unexpected {text[pos]!r} at position {pos + 1}")
        token, index, quoted, plain = match.group(0), match.group(1), match.group(2), match.group(3)
        if token == ".":
            if expect_key:
                raise ValueError(f"a field name is missing before the dot at position {pos + 1}")
            expect_key = True
        elif index is not None:
            if expect_key:
                raise ValueError(f"[{index}] must follow a field name (position {pos + 1})")
            pieces.append(r"\[[0-9]+\]" if index == "*" else re.escape(f"[{index}]"))
        else:
            if not expect_key:
                raise ValueError(f"a dot is missing before {token!r}")
            key = plain if plain is not None else re.sub(r"\\(.)", r"\1", quoted)
            pieces.append((r"\." if pieces else "") + re.escape(key))
            expect_key = False
        pos = match.end()
    if expect_key:
        raise ValueError("the path ends with a dot" if pieces else "the path is empty")
    return pieces


def check_mask(text: str) -> str:
    """``text`` if it is a field path (for the configuration model), else ValueError."""
    _pieces(text)
    return text


class Masks:
    """Compiled ``ignore:`` paths: one regular expression for all of them."""

    __slots__ = ("_pattern", "paths")

    def __init__(self, paths: Iterable[str] = ()) -> None:
        self.paths = tuple(paths)
        alternatives = ["".join(_pieces(p)) for p in self.paths]
        self._pattern = (
            re.compile(f"^(?:{'|'.join(alternatives)})(?=$|[.\\[])") if alternatives else None
        )

    def covers(self, path: str) -> bool:
        """True when the field at ``path`` (as compare reports it) or one above it is masked."""
        return self._pattern is not None and self._pattern.match(path) is not None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Masks) and other.paths == self.paths

    def __hash__(self) -> int:
        return hash(self.paths)

    def __repr__(self) -> str:
        return f"Masks({list(self.paths)!r})"


def field_name(path: str) -> str:
    """The field a difference counts under: every item of a list alike (``items[*].qty``),
    so a field that differs on several lines of one document is one field."""
    return _INDEX.sub("[*]", path) if path else WHOLE_BODY
