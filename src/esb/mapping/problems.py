"""Load-time problems of one rule, located relative to the rule so the loader can add file:line."""

from __future__ import annotations

from esb.errors import MappingError

Loc = tuple[str | int, ...]


class RuleError(MappingError):
    """A rule that cannot compile: ``loc`` is relative to the rule, e.g. ``("date", "from")``."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message
