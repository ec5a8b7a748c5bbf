"""The master-data cache the mapping engine looks codes up in: all in memory, never stale for long.

Lookups are synchronous dictionary reads (no database round trip per field). Each
process polls the small ``xref_versions`` table and reloads a domain whose version
moved, so a change made through any process reaches every worker within
``interval`` seconds; a miss forces a check first, so a fix followed by a replay
is never refused by an old cache.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterable
from pathlib import Path

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.errors import FieldProblem, StoreUnavailable, ValidationFailed
from esb.store import xref as store
from esb.store.xref import Entity

log = structlog.get_logger(__name__)

Index = dict[str, dict[str, Entity]]  # system -> code -> entity codes


def _index(data: store.DomainData) -> Index:
    index: Index = {}
    for codes in data.entities.values():
        for system, code in codes.items():
            index.setdefault(system, {})[code] = codes
    return index


class XrefCache:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._domains: dict[str, Index] = {}
        self._versions: dict[str, int] = {}

    def lookup(self, domain: str, from_system: str, to_system: str, code: str) -> str | None:
        entity = self._domains.get(domain, {}).get(from_system, {}).get(code)
        return None if entity is None else entity.get(to_system)

    async def refresh(self) -> list[str]:
        """Reload every domain whose version moved; return their names."""
        current = await store.versions(self.engine)
        changed = [d for d, v in current.items() if self._versions.get(d) != v]
        for domain in changed:
            data, version = await store.load_domain(self.engine, domain)
            self._domains[domain] = _index(data)
            self._versions[domain] = version
        for domain in set(self._domains) - set(current):
            del self._domains[domain], self._versions[domain]
        if changed:
            log.info("master data reloaded", domains=changed)
        return changed

    async def watch(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except StoreUnavailable as exc:
                log.warning("master data not refreshed", error=str(exc))


def parse_csv(text: str, *, source: str = "csv") -> list[Entity]:
    """The masterdata format: a header of system names, one row per entity (first column: key)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in next(reader, [])]
    if not header or any(not h for h in header) or len(set(header)) != len(header):
        raise ValidationFailed([FieldProblem(f"{source}:1", "header must name each system once")])
    rows: list[Entity] = []
    problems: list[FieldProblem] = []
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(
                FieldProblem(
                    f"{source}:{number}", f"{len(row)} columns, the header has {len(header)}"
                )
            )
            continue
        rows.append({s: c.strip() for s, c in zip(header, row, strict=True)})
    if problems:
        raise ValidationFailed(problems)
    return rows


def format_csv(entities: Iterable[Entity]) -> str:
    entities = list(entities)
    systems = store.systems_of(entities)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(systems)
    for entity in entities:
        writer.writerow([entity.get(s, "") for s in systems])
    return out.getvalue()


async def seed(engine: AsyncEngine, config_folder: Path) -> dict[str, int]:
    """Import ``masterdata/<domain>.csv`` for domains the database does not have yet."""
    seeded = {}
    for path in sorted((config_folder / "masterdata").glob("*.csv")):
        rows = parse_csv(path.read_text(encoding="utf-8"), source=str(path))
        try:
            result = await store.import_entities(
                engine,
                path.stem,
                rows,
                actor="seed",
                reason=f"seeded from {path.name}",
                only_if_new_domain=True,
            )
        except IntegrityError:  # another process seeded this domain at the same moment
            continue
        if result is not None:
            seeded[path.stem] = result.created
    if seeded:
        log.info("master data seeded", domains=seeded)
    return seeded
