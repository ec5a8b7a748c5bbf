"""Master data in the database: for a domain, which code each system uses for one entity.

Every change bumps the domain's version in the same transaction (so every process's
cache knows to reload) and is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.errors import Conflict
from esb.ids import uuid7
from esb.store.audit import audit
from esb.store.engine import transaction, utcnow
from esb.store.tables import xref_codes, xref_versions

Entity = dict[str, str]  # system -> code


@dataclass
class DomainData:
    """One domain loaded whole: entities and the index (system, code) -> entity."""

    entities: dict[UUID, Entity] = field(default_factory=dict)
    index: dict[tuple[str, str], UUID] = field(default_factory=dict)

    def find(self, codes: Entity) -> set[UUID]:
        return {e for s, c in codes.items() if (e := self.index.get((s, c))) is not None}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


async def versions(engine: AsyncEngine) -> dict[str, int]:
    async with transaction(engine) as conn:
        rows = await conn.execute(select(xref_versions.c.domain, xref_versions.c.version))
        return {r.domain: r.version for r in rows}


async def _load(conn: AsyncConnection, domain: str) -> DomainData:
    data = DomainData()
    rows = await conn.execute(
        select(xref_codes.c.entity, xref_codes.c.system, xref_codes.c.code).where(
            xref_codes.c.domain == domain
        )
    )
    for entity, system, code in rows:
        data.entities.setdefault(entity, {})[system] = code
        data.index[(system, code)] = entity
    return data


async def load_domain(engine: AsyncEngine, domain: str) -> tuple[DomainData, int]:
    async with transaction(engine) as conn:
        version = await conn.scalar(
            select(xref_versions.c.version).where(xref_versions.c.domain == domain)
        )
        return await _load(conn, domain), int(version or 0)


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


async def _bump(conn: AsyncConnection, domain: str) -> None:
    now = utcnow()
    changed = await conn.execute(
        update(xref_versions)
        .where(xref_versions.c.domain == domain)
        .values(version=xref_versions.c.version + 1, updated_at=now)
    )
    if changed.rowcount == 0:
        await conn.execute(xref_versions.insert().values(domain=domain, version=1, updated_at=now))


async def _write_entity(conn: AsyncConnection, domain: str, entity: UUID, codes: Entity) -> None:
    await conn.execute(
        delete(xref_codes).where(xref_codes.c.domain == domain, xref_codes.c.entity == entity)
    )
    rows = [
        {"domain": domain, "entity": entity, "system": s, "code": c} for s, c in codes.items() if c
    ]
    if rows:
        await conn.execute(xref_codes.insert(), rows)


def _plan(
    data: DomainData, system: str, code: str, codes: Entity, *, empty_removes: bool
) -> tuple[UUID | None, Entity]:
    """The entity ``system`` calls ``code`` (None: new) and its codes after the change.

    A code that already names a different entity is a Conflict: master data is never
    re-keyed as a side effect.
    """
    entity = data.index.get((system, code))
    wanted = {s: c for s, c in codes.items() if s != system}
    if data.find({s: c for s, c in wanted.items() if c}) - {entity}:
        raise Conflict(f"another {system}:{code} entity already has one of the codes {wanted}")
    merged = {**data.entities.get(entity, {}), system: code} if entity else {system: code}
    for s, c in wanted.items():
        if c:
            merged[s] = c
        elif empty_removes:
            merged.pop(s, None)
    return entity, merged


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
        data = await _load(conn, domain)
        entity, merged = _plan(data, system, code, codes, empty_removes=True)
        before = data.entities.get(entity) if entity else None
        await _write_entity(conn, domain, entity or uuid7(), merged)
        await _bump(conn, domain)
        await audit(
            conn,
            "xref.put",
            actor,
            reason,
            {"domain": domain, "entity": before},
            {"domain": domain, "entity": merged},
        )
    return merged


async def delete_entity(
    engine: AsyncEngine, domain: str, system: str, code: str, *, actor: str, reason: str = ""
) -> Entity | None:
    async with transaction(engine) as conn:
        data = await _load(conn, domain)
        entity = data.index.get((system, code))
        if entity is None:
            return None
        await _write_entity(conn, domain, entity, {})
        await _bump(conn, domain)
        await audit(
            conn,
            "xref.delete",
            actor,
            reason,
            {"domain": domain, "entity": data.entities[entity]},
            {"domain": domain},
        )
    return data.entities[entity]


async def import_entities(
    engine: AsyncEngine,
    domain: str,
    rows: Iterable[Entity],
    *,
    actor: str,
    reason: str = "",
    only_if_new_domain: bool = False,
) -> ImportResult | None:
    """Upsert many entities in one transaction; bad rows are reported, good ones applied.

    Each row's first system is its key (the CSV's first column); an empty cell keeps
    the code the entity has. ``only_if_new_domain``: do nothing if the domain exists
    (seeding never overwrites what an operator changed later).
    """
    result = ImportResult()
    async with transaction(engine) as conn:
        if (
            only_if_new_domain
            and await conn.scalar(
                select(xref_versions.c.version).where(xref_versions.c.domain == domain)
            )
            is not None
        ):
            return None
        data = await _load(conn, domain)
        for number, codes in enumerate(rows, start=2):  # row 1 is the header
            key_system, key_code = next(iter(codes.items()), ("", ""))
            if not key_code:
                result.errors.append({"row": number, "message": "the key (first column) is empty"})
                continue
            try:
                entity, merged = _plan(data, key_system, key_code, codes, empty_removes=False)
            except Conflict as exc:
                result.errors.append({"row": number, "message": exc.message})
                continue
            if entity is not None and merged == data.entities[entity]:
                result.unchanged += 1
                continue
            entity = entity or uuid7()
            result.created += entity not in data.entities
            result.updated += entity in data.entities
            await _write_entity(conn, domain, entity, merged)
            data.entities[entity] = merged
            data.index.update({(s, c): entity for s, c in merged.items()})
        await _bump(conn, domain)
        await audit(
            conn,
            "xref.import",
            actor,
            reason,
            {"domain": domain},
            {
                "domain": domain,
                "created": result.created,
                "updated": result.updated,
                "errors": len(result.errors),
            },
        )
    return result


def entities_sorted(data: DomainData) -> list[Entity]:
    return sorted(data.entities.values(), key=lambda e: sorted(e.items()))


def systems_of(entities: Iterable[Entity]) -> list[str]:
    """Every system named by some entity, in first-seen order (the CSV's columns)."""
    seen: dict[str, None] = {}
    for entity in entities:
        seen.update(dict.fromkeys(entity))
    return list(seen)
