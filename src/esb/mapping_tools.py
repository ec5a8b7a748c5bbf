"""Tools for the people who edit mappings: test against expected output, preview, and
the before-you-deploy diff of an edited mapping against what targets really received."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.gateway import GatewayConfig, Route
from esb.errors import NotFound
from esb.mapping import (
    CompiledMapping,
    MappingContext,
    MappingTestResult,
    StaticXref,
    XrefLookup,
    run_mapping_test,
)
from esb.store.queries import recent_sent


def masterdata_xref(folder: Path) -> StaticXref:
    """Offline master data: the configuration folder's masterdata/*.csv files."""
    return StaticXref.from_masterdata(folder / "masterdata")


def routes_using(config: GatewayConfig, mapping: str) -> list[Route]:
    found = [
        (name, target)
        for name, interface in config.interfaces.items()
        for target, spec in interface.targets.items()
        if spec.mapping == mapping
    ]
    if not found:
        raise NotFound(f"no interface target uses mapping {mapping!r}")
    return found


@dataclass(frozen=True)
class DiffEntry:
    """One stored message: what its target received, and what it would receive now."""

    message: dict[str, Any]
    result: MappingTestResult  # expected = what was sent, actual = the edited mapping's output

    @property
    def changed(self) -> bool:
        return not self.result.ok

    def describe(self) -> Iterator[str]:
        head = f"{self.message['key'] or self.message['id']} ({self.message['received_at']})"
        if self.result.error is not None:
            yield f"{head}: the edited mapping FAILS: {self.result.error}"
        elif self.message["sent"] is None:
            yield f"{head}: nothing was sent for it yet ({self.message['status']})"
        elif self.result.ok:
            yield f"{head}: unchanged"
        else:
            yield f"{head}: {len(self.result.differences)} field(s) would change"
            yield from (f"    {d.describe()}" for d in self.result.differences)


async def diff_mapping(
    engine: AsyncEngine, mapping: CompiledMapping, route: Route, xref: XrefLookup, last: int
) -> list[DiffEntry]:
    """Run the edited ``mapping`` on the last ``last`` messages of ``route``."""
    entries = []
    for message in await recent_sent(engine, route[0], route[1], last):
        context = MappingContext(xref=xref, message={"id": message["id"], "key": message["key"]})
        result = run_mapping_test(mapping, message["body"], message["sent"], context)
        entries.append(DiffEntry(message, result))
    return entries
