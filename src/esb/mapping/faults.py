"""Run-time failures inside a compiled mapping, carrying the path as they unwind.

A converter raises a ``Fault`` without knowing where it is; each enclosing
closure (a field, an object read from a path, a repeated group) adds its own
step on the way out, and ``CompiledMapping`` turns it into the public
``MappingError`` or ``XrefMissing`` once, at the edge. Building the path only on
failure keeps the happy path free of string work.
"""

from __future__ import annotations

from typing import Any

from esb.errors import MappingError, XrefMissing

_SHOWN = 60


def show(value: Any) -> str:
    """A short, readable rendering of a value for an error message."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


class Fault(MappingError):
    """A data problem at run time; ``steps`` are the path parts, innermost first."""

    def __init__(self, message: str) -> None:
        self.steps: list[str] = []
        self.absolute = False
        super().__init__(message)
        self.message = message

    def at(self, step: str, *, absolute: bool = False) -> Fault:
        """Add the enclosing step; a path read from the root stops further prefixes."""
        if not self.absolute:
            if step:
                self.steps.append(step)
            self.absolute = absolute
        return self

    @property  # MappingError's path, built from the steps as the fault unwinds
    def path(self) -> str:
        out = ""
        for step in reversed(self.steps):
            out += step if not out or step.startswith("[") else f".{step}"
        return out

    @path.setter
    def path(self, value: str) -> None:
        self.steps = [value] if value else []

    def to_error(self) -> MappingError:
        return MappingError(self.message, path=self.path)


class XrefFault(Fault):
    """A cross-reference lookup found nothing: becomes ``XrefMissing``."""

    def __init__(self, domain: str, from_system: str, to_system: str, code: str) -> None:
        super().__init__(f"xref {domain}: no {to_system} code for {from_system} code {code!r}")
        self.domain = domain
        self.from_system = from_system
        self.to_system = to_system
        self.code = code

    def to_error(self) -> MappingError:
        return XrefMissing(self.domain, self.from_system, self.to_system, self.code, path=self.path)
