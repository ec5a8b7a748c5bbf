"""Master data in the database: for a domain, which code each system uses for one entity.

A change reads only the entities it can touch (never the whole domain), plans in
Python against them (``store.xref_plan``), writes the difference, and is written to
the audit log. Writers of one domain take turns: SQLite has one writer anyway, and
PostgreSQL takes a transaction-level advisory lock per domain, so a plan is never
made against codes another writer is changing. Each change bumps the domain's
version in its transaction, so every process's cache knows to reload (an import
bumps it once, at its end: see ``store.xref_import``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.store.audit import audit
from esb.store.engine import transaction, utcnow
from esb.store.tables import xref_codes, xref_versions
from esb.store.xref_plan import EntitySet, Writes
from esb.store.xref_sql import DELETE_ENTITY, PAGE, EntityId, codes_sql
from esb.xref_csv import Entity

#: Rows per page when a domain is read whole (export, cache reload).
PAGE_ROWS = 3000


async def lock_domain(conn: AsyncConnection, domain: str, *, bulk: bool = False) -> None:
    """One writer per domain at a time, until the transaction ends (SQLite: always)."""
    await codes_sql(conn).lock(conn, domain, bulk=bulk)


async def entity_set(
    conn: AsyncConnection, domain: str, rows: Sequence[Entity], *, whole_keys: bool
) -> EntitySet:
    """What planning ``rows`` (each: its key first, then codes) needs: the owner of every
    code they name, and every code of each entity a row may change or conflict with
    (``whole_keys``: of each row's key entity too, for a change that removes codes).

    A re-import of unchanged rows, or a fresh import, reads nothing but the owners."""
    sql = codes_sql(conn)
    found = EntitySet(sql)
    pairs = list(dict.fromkeys(p for row in rows for p in row.items() if p[1]))
    for entity, system, code in await sql.owners(conn, domain, pairs):
        found.add(entity, system, code)
    wanted = found.entities_to_read(rows, whole_keys=whole_keys)
    found.entities = {e: codes for e, codes in found.entities.items() if e not in wanted}
    for entity, system, code in await sql.codes_of(conn, domain, list(wanted)):
        found.add(entity, system, code)
    return found


async def write(conn: AsyncConnection, domain: str, writes: Writes) -> int:
    """Deletes first: a code given up by one entity may be taken by another in the batch.
    Answers how many code rows were inserted."""
    deletes, inserts = writes.rows()
    await codes_sql(conn).write(conn, domain, deletes, inserts)
    return len(inserts)


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
    """Every entity of a domain in creation order, a page of rows at a time, each page
    its own short transaction (a slow reader never holds embedded mode's one connection);
    an entity cut by a page's end is completed from the next."""
    after: tuple[EntityId, str] | None = None
    entity: EntityId = None
    codes: Entity = {}
    while True:
        async with transaction(engine) as conn:
            after = after or (codes_sql(conn).lowest, "")
            parameters = {"domain": domain, "entity": after[0], "system": after[1]}
            rows = (await conn.execute(PAGE, {**parameters, "limit": PAGE_ROWS})).all()
        page: list[Entity] = []
        for row_entity, system, code in rows:
            if row_entity != entity:
                if codes:
                    page.append(codes)
                entity, codes = row_entity, {}
            codes[system] = code
        if len(rows) < PAGE_ROWS:
            if codes:
                page.append(codes)
            if page:
                yield page
            return
        if page:
            yield page
        after = (rows[-1][0], rows[-1][1])


async def find(engine: AsyncEngine, domain: str, system: str, code: str) -> Entity | None:
    async with transaction(engine) as conn:
        found = await entity_set(conn, domain, [{system: code}], whole_keys=True)
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
        found = await entity_set(conn, domain, [{system: code, **codes}], whole_keys=True)
        change = found.plan(system, code, codes, empty_removes=True)
        if change is None:
            entity = found.owner(system, code)
            assert entity is not None
            return found.entities[entity]
        writes = Writes()
        writes.add(change)
        await write(conn, domain, writes)
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
        found = await entity_set(conn, domain, [{system: code}], whole_keys=True)
        entity = found.owner(system, code)
        if entity is None:
            return None
        await conn.execute(DELETE_ENTITY, {"domain": domain, "entity": entity})
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
