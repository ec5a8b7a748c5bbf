"""Master data in the database: for a domain, which code each system uses for one entity.

A change reads only the entities it can touch (never the whole domain), plans in
Python against them (``EntitySet``), writes the difference, and is written to the
audit log. Writers of one domain take turns: SQLite has one writer anyway, and
PostgreSQL takes a transaction-level advisory lock per domain, so a plan is never
made against codes another writer is changing. Each change bumps the domain's
version in its transaction, so every process's cache knows to reload (an import
bumps it once, at its end: see ``store.xref_import``).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.errors import Conflict
from esb.ids import uuid7
from esb.store.audit import audit
from esb.store.engine import transaction, utcnow
from esb.store.tables import xref_codes, xref_versions

Entity = dict[str, str]  # system -> code
Pair = tuple[str, str]  # (system, code)

#: Entities per page when a domain is read whole (export, cache): each page is its own
#: short transaction, so a slow reader never holds embedded mode's one connection.
PAGE = 5000


@dataclass
class Change:
    """One entity before and after a planned change (``before`` None: a new entity)."""

    entity: UUID
    before: Entity | None
    after: Entity


@dataclass
class EntitySet:
    """The entities a change can touch, as they are now, kept exact as changes are planned."""

    entities: dict[UUID, Entity] = field(default_factory=dict)
    index: dict[Pair, UUID] = field(default_factory=dict)
    last_new: int = 0

    def new_id(self) -> UUID:
        """A UUIDv7 above the previous one: entities export in the order they were planned,
        also within one millisecond."""
        self.last_new = max(uuid7().int, self.last_new + 1)
        return UUID(int=self.last_new)

    def add(self, entity: UUID, system: str, code: str) -> None:
        self.entities.setdefault(entity, {})[system] = code
        self.index[(system, code)] = entity

    def owner(self, system: str, code: str) -> UUID | None:
        return self.index.get((system, code))

    def plan(self, system: str, code: str, codes: Entity, *, empty_removes: bool) -> Change | None:
        """Set ``codes`` on the entity ``system`` calls ``code`` (new if none); None: no change.

        A code that already names a different entity is a Conflict: master data is never
        re-keyed as a side effect. The set is updated, so the next plan sees this one.
        """
        entity = self.owner(system, code)
        before = self.entities.get(entity) if entity is not None else None
        after = dict(before or {system: code})
        for other, value in codes.items():
            if other == system:
                continue
            if value:
                owner = self.owner(other, value)
                if owner is not None and owner != entity:
                    raise Conflict(
                        f"{other} code {value!r} already names another entity "
                        f"({self.describe(owner)})"
                    )
                after[other] = value
            elif empty_removes:
                after.pop(other, None)
        if after == before:
            return None
        change = Change(entity or self.new_id(), before, after)
        self._apply(change)
        return change

    def describe(self, entity: UUID) -> str:
        return ", ".join(f"{s} {c!r}" for s, c in self.entities[entity].items())

    def _apply(self, change: Change) -> None:
        """Codes the entity gave up name nothing any more: a later row may take them."""
        for pair in (change.before or {}).items():
            if self.index.get(pair) == change.entity:
                del self.index[pair]
        self.entities[change.entity] = change.after
        self.index.update(dict.fromkeys(change.after.items(), change.entity))


@dataclass
class Writes:
    """The rows a batch of changes deletes and inserts (a code that changed is both)."""

    deletes: list[dict[str, Any]] = field(default_factory=list)
    inserts: list[dict[str, Any]] = field(default_factory=list)

    def add(self, domain: str, change: Change) -> None:
        before = change.before or {}
        for system, code in before.items():
            if change.after.get(system) != code:
                self.deletes.append({"d": domain, "e": change.entity, "s": system})
        for system, code in change.after.items():
            if before.get(system) != code:
                self.inserts.append(
                    {"domain": domain, "entity": change.entity, "system": system, "code": code}
                )


_DELETE = delete(xref_codes).where(
    xref_codes.c.domain == bindparam("d"),
    xref_codes.c.entity == bindparam("e"),
    xref_codes.c.system == bindparam("s"),
)


async def write(conn: AsyncConnection, writes: Writes) -> None:
    """Deletes first: a code given up by one entity may be taken by another in the batch."""
    if writes.deletes:
        await conn.execute(_DELETE, writes.deletes)
    if writes.inserts:
        await conn.execute(xref_codes.insert(), writes.inserts)


async def lock_domain(conn: AsyncConnection, domain: str) -> None:
    """PostgreSQL: one writer per domain at a time, until the transaction ends."""
    if conn.dialect.name == "postgresql":
        digest = hashlib.sha256(f"esb.xref:{domain}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        await conn.execute(select(func.pg_advisory_xact_lock(key)))


async def entity_set(conn: AsyncConnection, domain: str, pairs: Iterable[Pair]) -> EntitySet:
    """Every entity named by one of ``pairs``, with all its codes."""
    by_system: dict[str, set[str]] = {}
    for system, code in pairs:
        by_system.setdefault(system, set()).add(code)
    found = EntitySet()
    if not by_system:
        return found
    c = xref_codes.c
    named = select(c.entity).where(
        c.domain == domain,
        or_(*(and_(c.system == s, c.code.in_(codes)) for s, codes in by_system.items())),
    )
    rows = await conn.execute(
        select(c.entity, c.system, c.code).where(c.domain == domain, c.entity.in_(named))
    )
    for entity, system, code in rows:
        found.add(entity, system, code)
    return found


async def bump(conn: AsyncConnection, domain: str) -> None:
    now = utcnow()
    changed = await conn.execute(
        update(xref_versions)
        .where(xref_versions.c.domain == domain)
        .values(version=xref_versions.c.version + 1, updated_at=now)
    )
    if changed.rowcount == 0:
        await conn.execute(xref_versions.insert().values(domain=domain, version=1, updated_at=now))


async def versions(engine: AsyncEngine) -> dict[str, int]:
    async with transaction(engine) as conn:
        rows = await conn.execute(select(xref_versions.c.domain, xref_versions.c.version))
        return {r.domain: r.version for r in rows}


async def version(engine: AsyncEngine, domain: str) -> int:
    async with transaction(engine) as conn:
        found = await conn.scalar(
            select(xref_versions.c.version).where(xref_versions.c.domain == domain)
        )
    return int(found or 0)


async def systems(engine: AsyncEngine, domain: str) -> list[str]:
    """The domain's systems in the order they first appeared (the import's key first)."""
    c = xref_codes.c
    async with transaction(engine) as conn:
        rows = await conn.execute(
            select(c.system).where(c.domain == domain).group_by(c.system).order_by(func.min(c.id))
        )
        return list(rows.scalars())


async def pages(engine: AsyncEngine, domain: str) -> AsyncIterator[list[Entity]]:
    """Every entity of a domain in creation order, a page at a time (one transaction each)."""
    c = xref_codes.c
    after: UUID | None = None
    while True:
        ids = select(c.entity).where(c.domain == domain).group_by(c.entity)
        if after is not None:
            ids = ids.where(c.entity > after)
        ids = ids.order_by(c.entity).limit(PAGE)
        async with transaction(engine) as conn:
            rows = (
                await conn.execute(
                    select(c.entity, c.system, c.code)
                    .where(c.domain == domain, c.entity.in_(ids))
                    .order_by(c.entity, c.id)
                )
            ).all()
        page: dict[UUID, Entity] = {}
        for entity, system, code in rows:
            page.setdefault(entity, {})[system] = code
        if not page:
            return
        yield list(page.values())
        if len(page) < PAGE:
            return
        after = rows[-1].entity


async def find(engine: AsyncEngine, domain: str, system: str, code: str) -> Entity | None:
    async with transaction(engine) as conn:
        found = await entity_set(conn, domain, [(system, code)])
    entity = found.owner(system, code)
    return None if entity is None else found.entities[entity]


async def domains(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with transaction(engine) as conn:
        counts: dict[str, int] = dict(
            (
                await conn.execute(
                    select(
                        xref_codes.c.domain, func.count(func.distinct(xref_codes.c.entity))
                    ).group_by(xref_codes.c.domain)
                )
            ).all()
        )
        rows = (await conn.execute(select(xref_versions).order_by(xref_versions.c.domain))).all()
    return [
        {
            "domain": r.domain,
            "version": r.version,
            "entities": counts.get(r.domain, 0),
            "updated_at": r.updated_at.isoformat(),
        }
        for r in rows
    ]


async def put_entity(
    engine: AsyncEngine,
    domain: str,
    system: str,
    code: str,
    codes: Entity,
    *,
    actor: str,
    reason: str = "",
) -> Entity:
    """Set codes on the entity that ``system`` calls ``code`` (created if new); "" removes."""
    async with transaction(engine) as conn:
        await lock_domain(conn, domain)
        found = await entity_set(conn, domain, [(system, code), *codes.items()])
        change = found.plan(system, code, codes, empty_removes=True)
        if change is None:
            entity = found.owner(system, code)
            assert entity is not None
            return found.entities[entity]
        writes = Writes()
        writes.add(domain, change)
        await write(conn, writes)
        await bump(conn, domain)
        await audit(
            conn,
            "xref.put",
            actor,
            reason,
            {"domain": domain, "entity": change.before},
            {"domain": domain, "entity": change.after},
        )
    return change.after


async def delete_entity(
    engine: AsyncEngine, domain: str, system: str, code: str, *, actor: str, reason: str = ""
) -> Entity | None:
    async with transaction(engine) as conn:
        await lock_domain(conn, domain)
        found = await entity_set(conn, domain, [(system, code)])
        entity = found.owner(system, code)
        if entity is None:
            return None
        await conn.execute(
            delete(xref_codes).where(xref_codes.c.domain == domain, xref_codes.c.entity == entity)
        )
        await bump(conn, domain)
        await audit(
            conn,
            "xref.delete",
            actor,
            reason,
            {"domain": domain, "entity": found.entities[entity]},
            {"domain": domain},
        )
    return found.entities[entity]
