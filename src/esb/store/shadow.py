"""A parallel run's records: each comparison, its counts per day and per differing field,
and which shadows an operator promoted, each promotion and rollback audited in its
transaction.

A delivery is compared at most once per shadow: the first comparison stands, so a retried
delivery is not counted twice (``ON CONFLICT DO NOTHING``; only the comparisons that were
new are added to the counts, in the same transaction). The counts per day make the
report's read a handful of rows, however much traffic the day had.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.errors import Conflict
from esb.store.audit import audit
from esb.store.engine import transaction, utcnow
from esb.store.tables import (
    shadow_comparisons,
    shadow_days,
    shadow_field_days,
    shadow_promotions,
)

PROMOTED, ROLLED_BACK = "promoted", "rolled_back"
#: Longest field name kept (a path deep in a large document is cut, not refused).
MAX_FIELD = 300
DAY_KEYS = ["interface", "target", "day"]
COUNTED = ("compared", "matched", "differed", "failed", "sent", "send_failed")
#: A comparison's outcome -> the day's column it counts in.
OUTCOME_COLUMN = {"match": "matched", "differ": "differed", "failed": "failed"}


@dataclass(frozen=True)
class ComparisonRecord:
    """One shadow's output compared with what one live delivery sent."""

    delivery_id: UUID
    interface: str
    target: str  # the shadow's target
    day: str  # the factory's date
    compared_at: datetime
    outcome: str
    fields: tuple[str, ...] = ()
    detail: str | None = None  # JSON
    sent: str | None = None


def _insert(conn: AsyncConnection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert


def _row(record: ComparisonRecord) -> dict[str, Any]:
    return {
        "delivery_id": record.delivery_id,
        "target": record.target,
        "interface": record.interface,
        "day": record.day,
        "compared_at": record.compared_at,
        "outcome": record.outcome,
        "detail": record.detail,
        "sent": record.sent,
    }


def _counts(new: Sequence[ComparisonRecord]) -> dict[tuple[str, str, str], dict[str, int]]:
    """Per shadow and day, what ``new`` adds to the day's counts."""
    counts: dict[tuple[str, str, str], dict[str, int]] = {}
    for r in new:
        day = counts.setdefault((r.interface, r.target, r.day), dict.fromkeys(COUNTED, 0))
        day["compared"] += 1
        day[OUTCOME_COLUMN[r.outcome]] += 1
        if r.sent is not None:
            day["sent" if r.sent == "delivered" else "send_failed"] += 1
    return counts


def _field_counts(new: Sequence[ComparisonRecord]) -> dict[tuple[str, str, str, str], int]:
    counts: dict[tuple[str, str, str, str], int] = {}
    for r in new:
        for field in dict.fromkeys(f[:MAX_FIELD] for f in r.fields):
            key = (r.interface, r.target, r.day, field)
            counts[key] = counts.get(key, 0) + 1
    return counts


async def _add(
    conn: AsyncConnection, table: Any, keys: list[str], rows: list[dict[str, Any]]
) -> None:
    """Add ``rows``' counts to ``table`` (created at zero), in key order: two processes
    adding to the same rows take their locks in the same order."""
    counted = [c for c in rows[0] if c not in keys]
    statement = _insert(conn)(table)
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={c: table.c[c] + statement.excluded[c] for c in counted},
    )
    await conn.execute(statement, sorted(rows, key=lambda r: [r[k] for k in keys]))


async def write_comparisons(engine: AsyncEngine, batch: Sequence[ComparisonRecord]) -> list[None]:
    """Record a batch (a group commit's) and add it to the day's counts; a delivery
    already compared keeps its first comparison and is not counted again."""
    async with transaction(engine) as conn:
        statement = (
            _insert(conn)(shadow_comparisons)
            .values([_row(r) for r in batch])
            .on_conflict_do_nothing()
            .returning(shadow_comparisons.c.delivery_id, shadow_comparisons.c.target)
        )
        inserted = {(row.delivery_id, row.target) for row in await conn.execute(statement)}
        new = [r for r in batch if (r.delivery_id, r.target) in inserted]
        if new:
            days = [
                {"interface": i, "target": t, "day": d, **counts}
                for (i, t, d), counts in _counts(new).items()
            ]
            await _add(conn, shadow_days, DAY_KEYS, days)
        if fields := _field_counts(new):
            rows = [
                {"interface": i, "target": t, "day": d, "field": f, "messages": n}
                for (i, t, d, f), n in fields.items()
            ]
            await _add(conn, shadow_field_days, [*DAY_KEYS, "field"], rows)
    return [None] * len(batch)


@dataclass(frozen=True)
class Promotion:
    """What the store says an operator did to one shadow: promoted it (``mapping`` made
    live in place of ``previous``, or the target made live in place of ``previous``) or
    rolled it back."""

    interface: str
    target: str
    kind: str
    mapping: str | None
    previous: str | None
    state: str
    changed_at: datetime
    changed_by: str

    @property
    def promoted(self) -> bool:
        return self.state == PROMOTED


async def promotions(engine: AsyncEngine) -> list[Promotion]:
    """Every promotion ever recorded (one row per shadow; a handful)."""
    async with transaction(engine) as conn:
        rows = (await conn.execute(select(shadow_promotions))).all()
    return [Promotion(**row._mapping) for row in rows]


@dataclass(frozen=True)
class Change:
    """A promotion or rollback asked for: which shadow, what it swaps, who and why."""

    interface: str
    target: str
    kind: str
    mapping: str | None
    previous: str | None
    actor: str
    reason: str
    before: dict[str, Any]  # what delivers before, for the audit entry
    after: dict[str, Any]  # what delivers after


def _same(change: Change) -> Any:
    """The stored row is this very shadow (what it swaps is what the files declare now)."""
    c = shadow_promotions.c
    return and_(
        c.kind == change.kind,
        c.previous.is_(None) if change.previous is None else c.previous == change.previous,
        c.mapping.is_(None) if change.mapping is None else c.mapping == change.mapping,
    )


async def promote(engine: AsyncEngine, change: Change) -> None:
    """Record the promotion and its audit entry in one transaction; Conflict if this
    shadow is promoted already."""
    c = shadow_promotions.c
    values = {
        "kind": change.kind,
        "mapping": change.mapping,
        "previous": change.previous,
        "state": PROMOTED,
        "changed_at": utcnow(),
        "changed_by": change.actor,
    }
    async with transaction(engine) as conn:
        insert = _insert(conn)(shadow_promotions).values(
            interface=change.interface, target=change.target, **values
        )
        statement = insert.on_conflict_do_update(
            index_elements=["interface", "target"],
            set_=values,
            where=~and_(c.state == PROMOTED, _same(change)),
        ).returning(c.interface)
        if (await conn.execute(statement)).first() is None:
            raise Conflict(f"{change.interface} -> {change.target} is promoted already")
        await _audited(conn, "shadow.promote", change)


async def rollback(engine: AsyncEngine, change: Change) -> None:
    """Bring back what delivered before the promotion, audited; Conflict if not promoted."""
    c = shadow_promotions.c
    async with transaction(engine) as conn:
        statement = (
            update(shadow_promotions)
            .where(c.interface == change.interface, c.target == change.target)
            .where(c.state == PROMOTED, _same(change))
            .values(state=ROLLED_BACK, changed_at=utcnow(), changed_by=change.actor)
            .returning(c.interface)
        )
        if (await conn.execute(statement)).first() is None:
            raise Conflict(
                f"{change.interface} -> {change.target} is not promoted: nothing to roll back"
            )
        await _audited(conn, "shadow.rollback", change)


async def _audited(conn: AsyncConnection, action: str, change: Change) -> None:
    route = (change.interface, change.target)
    await audit(conn, action, change.actor, change.reason, change.before, change.after, None, route)
