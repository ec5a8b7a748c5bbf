"""The master-data cache the mapping engine looks codes up in: all in memory, never stale for long.

Lookups are synchronous dictionary reads (no database round trip per field). Each
process polls the small ``xref_versions`` table and reloads a domain whose version
moved, so a change made through any process reaches every worker within
``interval`` seconds; a miss forces a check first, so a fix followed by a replay
is never refused by an old cache. An import moves the version once, at its end
(``store.xref_import``), so a long import costs each process one reload.

Also here: importing a CSV file (the CLI, the HTTP import and the seed share it).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from esb import xref_csv
from esb.config.models import NAME_PATTERN
from esb.errors import FieldProblem, StoreUnavailable, ValidationFailed
from esb.limits import MAX_NAME, MAX_REASON, text_problem
from esb.store import xref as store
from esb.store.xref_import import ImportResult, import_rows
from esb.xref_csv import Entity
from esb.xref_pacing import sliced

log = structlog.get_logger(__name__)


@dataclass
class DomainIndex:
    """One domain as the cache holds it: per system, code -> entity number, and the code
    of each entity number. Flat ``str``/``int`` containers: a million entities make no
    object each (a dict per entity cost three times the memory, and the garbage
    collector stalled the event loop for seconds walking them)."""

    numbers: dict[str, dict[str, int]] = field(default_factory=dict)
    codes: dict[str, list[str | None]] = field(default_factory=dict)
    size: int = 0

    def add(self, entity: Entity) -> None:
        number, self.size = self.size, self.size + 1
        for system, code in entity.items():
            self.numbers.setdefault(system, {})[code] = number
            column = self.codes.setdefault(system, [])
            column.extend([None] * (number - len(column)))
            column.append(code)

    def lookup(self, from_system: str, to_system: str, code: str) -> str | None:
        number = self.numbers.get(from_system, {}).get(code)
        column = self.codes.get(to_system, [])
        return column[number] if number is not None and number < len(column) else None


async def load_index(engine: AsyncEngine, domain: str) -> tuple[DomainIndex, int]:
    """The domain as the cache holds it, and a version it is at least as new as."""
    version = await store.version(engine, domain)
    index = DomainIndex()
    async for page in store.pages(engine, domain):
        for entity in page:
            index.add(entity)
    return index, version


class XrefCache:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._domains: dict[str, DomainIndex] = {}
        self._versions: dict[str, int] = {}
        self._reloading = asyncio.Lock()  # one reload at a time: a big domain is loaded once

    def lookup(self, domain: str, from_system: str, to_system: str, code: str) -> str | None:
        index = self._domains.get(domain)
        return None if index is None else index.lookup(from_system, to_system, code)

    async def refresh(self) -> list[str]:
        """Reload every domain whose version moved; return the domains that are newer in
        the cache than when this was called (also those another caller reloaded while
        this one waited its turn)."""
        seen = dict(self._versions)
        async with self._reloading:
            current = await store.versions(self.engine)
            changed = [d for d, v in current.items() if self._versions.get(d) != v]
            for domain in changed:
                index, version = await load_index(self.engine, domain)
                self._domains[domain], self._versions[domain] = index, version
            for domain in set(self._domains) - set(current):
                del self._domains[domain], self._versions[domain]
        if changed:
            log.info("master data reloaded", domains=changed)
        return [d for d, v in self._versions.items() if seen.get(d) != v]

    async def watch(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except StoreUnavailable as exc:
                log.warning("master data not refreshed", error=str(exc))


async def import_file(
    engine: AsyncEngine,
    domain: str,
    binary: IO[bytes],
    *,
    source: str,
    actor: str,
    reason: str,
    only_if_new_domain: bool = False,
    shared_loop: bool = False,
) -> ImportResult | None:
    """Check the whole file (a 422 names row and column, nothing is imported), then
    import it as a stream: the file is read twice and never held in memory.
    ``shared_loop``: this event loop also serves requests (see ``esb.xref_pacing``)."""
    with xref_csv.text_reader(binary) as text:
        if shared_loop:
            header = await sliced(xref_csv.check_steps(text, source))
        else:
            header = await asyncio.to_thread(xref_csv.check, text, source)
    binary.seek(0)
    with xref_csv.text_reader(binary) as text:
        return await import_rows(
            engine,
            domain,
            len(header),
            xref_csv.rows(text, source),
            actor=actor,
            reason=reason,
            only_if_new_domain=only_if_new_domain,
            shared_loop=shared_loop,
        )


def check_arguments(domain: str, reason: str = "", *, new_domain: bool = False) -> None:
    """The CLI's arguments, held to the HTTP API's rules (a domain created by an import
    is a name like a system's; any stored domain can be read)."""
    problems = [
        FieldProblem(name, problem)
        for name, value, limit in (("domain", domain, MAX_NAME), ("reason", reason, MAX_REASON))
        if (problem := text_problem(value, limit)) is not None
    ]
    if new_domain and not problems and not re.fullmatch(NAME_PATTERN, domain):
        problems.append(FieldProblem("domain", f"must match {NAME_PATTERN}"))
    if problems:
        raise ValidationFailed(problems)


async def export_csv(engine: AsyncEngine, domain: str, out: IO[bytes]) -> None:
    """The domain as CSV (UTF-8 with a BOM), written a page at a time."""
    systems = await store.systems(engine, domain)
    async for chunk in xref_csv.chunks(systems, store.pages(engine, domain)):
        out.write(chunk.encode())
    out.flush()


async def seed(engine: AsyncEngine, config_folder: Path) -> dict[str, int]:
    """Import ``masterdata/<domain>.csv`` for domains the database does not have yet."""
    seeded = {}
    for path in sorted((config_folder / "masterdata").glob("*.csv")):
        with path.open("rb") as binary:
            result = await import_file(
                engine,
                path.stem,
                binary,
                source=str(path),
                actor="seed",
                reason=f"seeded from {path.name}",
                only_if_new_domain=True,
                shared_loop=True,
            )
        if result is not None:
            seeded[path.stem] = result.created
    if seeded:
        log.info("master data seeded", domains=seeded)
    return seeded
