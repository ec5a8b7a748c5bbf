"""What delivery calls: a compiled mapping, the context it runs in, and the set of all mappings."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from esb.errors import MappingError
from esb.mapping.faults import Fault
from esb.mapping.functions import SCOPE
from esb.mapping.xref import XrefLookup


@dataclass(frozen=True, slots=True)
class MappingContext:
    """Per-message surroundings: the master-data lookup and the message's metadata."""

    xref: XrefLookup
    message: Mapping[str, Any] = field(default_factory=dict)


#: ``build(scope, root, ctx)``: the target object for one source record.
Builder = Callable[[Any, Any, MappingContext], Any]


class CompiledMapping:
    """One mapping file, compiled: call it with a source body to get the target body."""

    __slots__ = (
        "_build",
        "_needs_scope",
        "description",
        "name",
        "source_system",
        "target_system",
        "xref_domains",
    )

    def __init__(
        self,
        name: str,
        source_system: str,
        target_system: str,
        *,
        build: Builder,
        xref_domains: frozenset[str],
        needs_scope: bool,
        description: str = "",
    ) -> None:
        self.name = name
        self.source_system = source_system
        self.target_system = target_system
        self.xref_domains = xref_domains
        self.description = description
        self._build = build
        self._needs_scope = needs_scope

    def __call__(self, body: Any, ctx: MappingContext) -> Any:
        """The target body; MappingError (or XrefMissing) names the path of any data problem."""
        if not isinstance(body, dict):
            raise MappingError(f"the body must be a JSON object, not {type(body).__name__}")
        try:
            if not self._needs_scope:
                return self._build(body, body, ctx)
            token = SCOPE.set((body, ctx.message))
            try:
                return self._build(body, body, ctx)
            finally:
                SCOPE.reset(token)
        except Fault as fault:
            raise fault.to_error() from None

    def __repr__(self) -> str:
        return f"<CompiledMapping {self.name}: {self.source_system} -> {self.target_system}>"


class MappingSet:
    """Every mapping of a configuration folder, by name (the file stem)."""

    def __init__(self, mappings: Mapping[str, CompiledMapping] | None = None) -> None:
        self._mappings = dict(mappings or {})

    def get(self, name: str) -> CompiledMapping:
        try:
            return self._mappings[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise KeyError(f"no mapping named {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._mappings)

    def __contains__(self, name: object) -> bool:
        return name in self._mappings

    def __iter__(self) -> Iterator[CompiledMapping]:
        return iter(self._mappings[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._mappings)
