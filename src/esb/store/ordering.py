"""Ordering per business key: one delivery per (interface, target, key) out at a time.

Each key has a head row (``ordering_heads``). Its ``head_id`` is the one delivery of the
key that has an outbox row (sent, retrying, or parked); every later delivery of the key
waits, ``pending`` with no outbox row, until the head ends (delivered, discarded). The
transaction that ends the head makes the next one (lowest ``order_seq``) the head and
inserts its outbox row. Because only one delivery per key is ever queued, retries,
redeliveries, several relays and several workers cannot reorder a key.

Every transaction that reads or moves a head locks its row first (PostgreSQL: the
upsert or ``FOR UPDATE``, always in key order so two transactions never wait on each
other in a circle; SQLite: one writer at a time), before it touches a delivery row.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Row,
    TextClause,
    and_,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from esb.status import FINAL_DELIVERY, DeliveryStatus, OutboxStatus
from esb.store.tables import deliveries, ordering_heads, outbox

Key = tuple[str, str, str]  # interface, target, business key
#: Head rows locked per statement (a multi-row upsert has a bound on its parameters).
CHUNK = 1000

# PostgreSQL: one statement text whatever the batch size, from arrays (a multi-row VALUES
# or ``IN (...)`` is a new statement, and a new server-side prepare, for every size).
_RESERVE_PG: TextClause = text(
    """
INSERT INTO ordering_heads (interface, target, business_key, head_id, last_seq, updated_at)
SELECT k.interface, k.target, k.business_key, NULL, k.n, CAST(:now AS timestamptz)
FROM unnest(CAST(:interfaces AS text[]), CAST(:targets AS text[]), CAST(:keys AS text[]),
            CAST(:counts AS bigint[])) AS k(interface, target, business_key, n)
ON CONFLICT (interface, target, business_key) DO UPDATE
SET last_seq = ordering_heads.last_seq + EXCLUDED.last_seq, updated_at = EXCLUDED.updated_at
RETURNING interface, target, business_key, head_id, last_seq
"""
)
_LOCK_HEADS_PG: TextClause = text(
    "SELECT interface, target, business_key, head_id FROM ordering_heads "
    "WHERE head_id = ANY(:ids) ORDER BY interface, target, business_key FOR UPDATE"
)
_SET_HEADS_PG: TextClause = text(
    """
UPDATE ordering_heads h SET head_id = k.head_id, updated_at = CAST(:now AS timestamptz)
FROM unnest(CAST(:interfaces AS text[]), CAST(:targets AS text[]), CAST(:keys AS text[]),
            CAST(:heads AS uuid[])) AS k(interface, target, business_key, head_id)
WHERE h.interface = k.interface AND h.target = k.target AND h.business_key = k.business_key
"""
)


def _pg(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


def _arrays(keys: Sequence[Key]) -> dict[str, list[str]]:
    return {
        "interfaces": [k[0] for k in keys],
        "targets": [k[1] for k in keys],
        "keys": [k[2] for k in keys],
    }


@dataclass(frozen=True)
class Ordered:
    """A new delivery whose target receives its key's documents in acceptance order."""

    delivery_id: UUID
    message_id: UUID
    interface: str
    target: str
    key: str
    supersede: bool  # a later document of the key replaces this one while it waits

    @property
    def ordering_key(self) -> Key:
        return (self.interface, self.target, self.key)


@dataclass(frozen=True)
class Reserved:
    """What ``reserve`` found under the locks: each key's head, each delivery's place."""

    heads: dict[Key, UUID | None]
    seqs: dict[UUID, int]


def _upsert_sqlite(rows: list[dict[str, Any]]) -> Any:
    """SQLite's form of ``_RESERVE_PG`` (one writer at a time: no lock to take)."""
    statement = sqlite.insert(ordering_heads).values(rows)
    h = ordering_heads.c
    return statement.on_conflict_do_update(
        index_elements=[h.interface, h.target, h.business_key],
        set_={
            "last_seq": h.last_seq + statement.excluded.last_seq,
            "updated_at": statement.excluded.updated_at,
        },
    ).returning(h.interface, h.target, h.business_key, h.head_id, h.last_seq)


async def _lock_keys(
    conn: AsyncConnection, counts: dict[Key, int], now: datetime
) -> dict[Key, tuple[UUID | None, int]]:
    """Lock each key's head row (created if the key was idle), in key order, adding its
    count to ``last_seq``: (head, last_seq) per key."""
    keys = sorted(counts)
    found: dict[Key, tuple[UUID | None, int]] = {}
    for start in range(0, len(keys), CHUNK):
        part = keys[start : start + CHUNK]
        if _pg(conn):
            params = {**_arrays(part), "counts": [counts[k] for k in part], "now": now}
            result = await conn.execute(_RESERVE_PG, params)
        else:
            rows = [
                {
                    "interface": k[0],
                    "target": k[1],
                    "business_key": k[2],
                    "head_id": None,
                    "last_seq": counts[k],
                    "updated_at": now,
                }
                for k in part
            ]
            result = await conn.execute(_upsert_sqlite(rows))
        for r in result:
            found[(r.interface, r.target, r.business_key)] = (r.head_id, int(r.last_seq))
    return found


async def reserve(conn: AsyncConnection, items: Sequence[Ordered], now: datetime) -> Reserved:
    """Lock the head row of every key in ``items`` (created if new) and give each delivery
    its sequence number, in submit order. Call before inserting the deliveries."""
    counts = Counter(i.ordering_key for i in items)
    found = await _lock_keys(conn, dict(counts), now)
    following = {k: found[k][1] - counts[k] + 1 for k in counts}
    seqs: dict[UUID, int] = {}
    for item in items:
        seqs[item.delivery_id] = following[item.ordering_key]
        following[item.ordering_key] += 1
    return Reserved({k: found[k][0] for k in counts}, seqs)


def _outbox_rows(ids: Iterable[UUID], now: datetime) -> list[dict[str, Any]]:
    return [
        {"delivery_id": i, "status": OutboxStatus.PENDING, "available_at": now, "created_at": now}
        for i in ids
    ]


_SET_HEAD = (
    update(ordering_heads)
    .where(
        ordering_heads.c.interface == bindparam("b_interface"),
        ordering_heads.c.target == bindparam("b_target"),
        ordering_heads.c.business_key == bindparam("b_key"),
    )
    .values(head_id=bindparam("b_head"), updated_at=bindparam("b_now"))
)


async def _set_heads(
    conn: AsyncConnection, heads: Mapping[Key, UUID | None], now: datetime
) -> None:
    if heads and _pg(conn):
        keys = sorted(heads)
        params = {**_arrays(keys), "heads": [heads[k] for k in keys], "now": now}
        await conn.execute(_SET_HEADS_PG, params)
    elif heads:
        await conn.execute(
            _SET_HEAD,
            [
                {"b_interface": k[0], "b_target": k[1], "b_key": k[2], "b_head": h, "b_now": now}
                for k, h in sorted(heads.items())
            ],
        )


_SUPERSEDE = (
    update(deliveries)
    .where(
        deliveries.c.interface == bindparam("b_interface"),
        deliveries.c.target == bindparam("b_target"),
        deliveries.c.order_key == bindparam("b_key"),
        deliveries.c.status == DeliveryStatus.PENDING,
        deliveries.c.order_seq < bindparam("b_seq"),
        deliveries.c.id != bindparam("b_head"),
    )
    .values(
        status=DeliveryStatus.SUPERSEDED,
        superseded_by=bindparam("b_by"),
        next_attempt_at=None,
        updated_at=bindparam("b_now"),
    )
)


async def start(
    conn: AsyncConnection, inserted: Sequence[Ordered], reserved: Reserved, now: datetime
) -> set[UUID]:
    """After the insert: on an idle key the first new delivery becomes the head and gets
    its outbox row; with ``supersede`` the newest delivery of a key replaces the waiting
    ones before it (the head, already on its way or parked, is never replaced).
    Returns the new deliveries superseded within this same batch."""
    by_key: dict[Key, list[Ordered]] = defaultdict(list)
    for item in inserted:
        by_key[item.ordering_key].append(item)
    new_heads: dict[Key, UUID | None] = {
        k: items[0].delivery_id for k, items in by_key.items() if reserved.heads[k] is None
    }
    await _set_heads(conn, new_heads, now)
    if new_heads:
        await conn.execute(
            outbox.insert(), _outbox_rows([i for i in new_heads.values() if i is not None], now)
        )
    replaced, within = [], set()
    for k, items in by_key.items():
        newest = items[-1]
        head = new_heads.get(k) or reserved.heads[k]
        if newest.supersede and newest.delivery_id != head:
            within |= {i.delivery_id for i in items[:-1] if i.delivery_id != head}
            replaced.append(
                {
                    "b_interface": k[0],
                    "b_target": k[1],
                    "b_key": k[2],
                    "b_seq": reserved.seqs[newest.delivery_id],
                    "b_head": head,
                    "b_by": newest.message_id,
                    "b_now": now,
                }
            )
    if replaced:
        await conn.execute(_SUPERSEDE, replaced)
    return within


async def lock_heads(conn: AsyncConnection, delivery_ids: Sequence[UUID]) -> Sequence[Row[Any]]:
    """The head rows of those of ``delivery_ids`` that head a key, locked in key order.
    Call before the deliveries themselves are updated (locks: heads, then deliveries)."""
    if not delivery_ids:
        return []
    if _pg(conn):
        found: Sequence[Any] = (
            await conn.execute(_LOCK_HEADS_PG, {"ids": list(delivery_ids)})
        ).all()
        return found
    h = ordering_heads.c
    rows: Sequence[Any] = (
        await conn.execute(
            select(h.interface, h.target, h.business_key, h.head_id)
            .where(h.head_id.in_(delivery_ids))
            .order_by(h.interface, h.target, h.business_key)
            .with_for_update()
        )
    ).all()
    return rows


@dataclass(frozen=True)
class Head:
    """A locked head row, as ``lock_key_of`` read it."""

    interface: str
    target: str
    business_key: str
    head_id: UUID | None
    last_seq: int


async def lock_key_of(conn: AsyncConnection, delivery_id: UUID, now: datetime) -> Head | None:
    """The locked head row of this delivery's key, created if the key is idle (None: the
    delivery is not ordered)."""
    d = deliveries.c
    found = (
        await conn.execute(select(d.interface, d.target, d.order_key).where(d.id == delivery_id))
    ).first()
    if found is None or found.order_key is None:
        return None
    key = (found.interface, found.target, found.order_key)
    head_id, last_seq = (await _lock_keys(conn, {key: 0}, now))[key]
    return Head(*key, head_id, last_seq)


def _key(row: Row[Any] | Head) -> Key:
    return (row.interface, row.target, row.business_key)


async def release(conn: AsyncConnection, locked: Sequence[Row[Any] | Head], now: datetime) -> int:
    """Keys (locked by ``lock_heads``) whose head has now ended: the next waiting delivery,
    lowest ``order_seq`` first, becomes the head with an outbox row; none left: idle.
    A head that has not ended (parked, or an outcome that changed nothing) stays.
    Returns how many deliveries were queued."""
    if not locked:
        return 0
    if _pg(conn):
        return await _release_pg(conn, locked, now)
    d = deliveries.c
    heads = [r.head_id for r in locked]
    found = await conn.execute(select(d.id, d.status).where(d.id.in_(heads)))
    statuses = {r.id: r.status for r in found}
    ended = [_key(r) for r in locked if statuses.get(r.head_id) in FINAL_DELIVERY]
    return await _advance(conn, ended, now)


_DROP_HEAD = delete(ordering_heads).where(
    ordering_heads.c.interface == bindparam("b_interface"),
    ordering_heads.c.target == bindparam("b_target"),
    ordering_heads.c.business_key == bindparam("b_key"),
)


async def _advance(conn: AsyncConnection, keys: Sequence[Key], now: datetime) -> int:
    """Locked ``keys`` whose head has ended: the lowest waiting delivery becomes the head
    and is queued; a key with none waiting is idle and loses its row (the table holds
    only keys with something open). Returns how many deliveries were queued."""
    d = deliveries.c
    following: dict[Key, UUID | None] = dict.fromkeys(keys)
    for start_at in range(0, len(keys), CHUNK):
        part = list(keys[start_at : start_at + CHUNK])
        waiting = await conn.execute(
            select(d.id, d.interface, d.target, d.order_key)
            .where(
                tuple_(d.interface, d.target, d.order_key).in_(part),
                d.status == DeliveryStatus.PENDING,
            )
            .order_by(d.order_seq.desc())
        )
        for w in waiting:  # highest first: the lowest is written last and wins
            following[(w.interface, w.target, w.order_key)] = w.id
    moved = {k: h for k, h in following.items() if h is not None}
    idle = sorted(k for k, h in following.items() if h is None)
    await _set_heads(conn, moved, now)
    if idle:
        await conn.execute(
            _DROP_HEAD, [{"b_interface": k[0], "b_target": k[1], "b_key": k[2]} for k in idle]
        )
    if moved:
        await conn.execute(outbox.insert(), _outbox_rows(moved.values(), now))
    return len(moved)


#: PostgreSQL: the whole release in one statement (it sees the outcome transaction's
#: updates made before it): the heads that ended, the next delivery of each such key,
#: the heads moved to them, the rows of keys left idle deleted, the outbox rows.
_RELEASE_PG: TextClause = text(
    """
WITH locked AS (
    SELECT * FROM unnest(CAST(:interfaces AS text[]), CAST(:targets AS text[]),
                         CAST(:keys AS text[]), CAST(:heads AS uuid[]))
         AS k(interface, target, business_key, head_id)
), ended AS (
    SELECT l.interface, l.target, l.business_key FROM locked l
    JOIN deliveries d ON d.id = l.head_id
    WHERE d.status = ANY(CAST(:final AS text[]))
), following AS (
    SELECT DISTINCT ON (d.interface, d.target, d.order_key)
           d.id, d.interface, d.target, d.order_key
    FROM ended e
    JOIN deliveries d ON d.interface = e.interface AND d.target = e.target
                     AND d.order_key = e.business_key AND d.status = :pending
    ORDER BY d.interface, d.target, d.order_key, d.order_seq
), moved AS (
    UPDATE ordering_heads h SET head_id = f.id, updated_at = CAST(:now AS timestamptz)
    FROM following f
    WHERE h.interface = f.interface AND h.target = f.target AND h.business_key = f.order_key
), idle AS (
    DELETE FROM ordering_heads h USING ended e
    WHERE h.interface = e.interface AND h.target = e.target AND h.business_key = e.business_key
      AND NOT EXISTS (SELECT 1 FROM following f WHERE f.interface = e.interface
                      AND f.target = e.target AND f.order_key = e.business_key)
), queued AS (
    INSERT INTO outbox (delivery_id, status, available_at, created_at)
    SELECT id, :outbox_pending, CAST(:now AS timestamptz), CAST(:now AS timestamptz)
    FROM following
    RETURNING delivery_id
)
SELECT count(*) FROM queued
"""
)


async def _release_pg(
    conn: AsyncConnection, locked: Sequence[Row[Any] | Head], now: datetime
) -> int:
    keys = [_key(r) for r in locked]
    params = {
        **_arrays(keys),
        "heads": [r.head_id for r in locked],
        "final": [s.value for s in FINAL_DELIVERY],
        "pending": DeliveryStatus.PENDING.value,
        "outbox_pending": OutboxStatus.PENDING.value,
        "now": now,
    }
    return int(await conn.scalar(_RELEASE_PG, params) or 0)


async def reenter(conn: AsyncConnection, head: Head, delivery_id: UUID, now: datetime) -> bool:
    """A discarded delivery replayed: it takes the last place of its key, as if accepted
    now. True when the key was idle and it is the head (it gets an outbox row)."""
    h = ordering_heads.c
    idle = head.head_id is None
    await conn.execute(
        update(ordering_heads)
        .where(
            h.interface == head.interface,
            h.target == head.target,
            h.business_key == head.business_key,
        )
        .values(
            last_seq=h.last_seq + 1,
            head_id=delivery_id if idle else h.head_id,
            updated_at=now,
        )
    )
    await conn.execute(
        update(deliveries).where(deliveries.c.id == delivery_id).values(order_seq=head.last_seq + 1)
    )
    return idle


def waiting_condition() -> Any:
    """A pending delivery that waits behind its key's head (it has no outbox row)."""
    d, h = deliveries.c, ordering_heads.c
    return and_(
        d.status == DeliveryStatus.PENDING,
        d.order_key.is_not(None),
        ~exists().where(h.head_id == d.id),
    )


async def blockers(conn: AsyncConnection, rows: Sequence[Row[Any]]) -> dict[UUID, dict[str, Any]]:
    """For each waiting delivery among ``rows``: the head it waits behind (delivery id,
    message id, status). Deliveries that are not waiting are not in the answer."""
    candidates = [r for r in rows if r.order_key is not None and r.status == DeliveryStatus.PENDING]
    if not candidates:
        return {}
    h, d = ordering_heads.c, deliveries.c
    keys = {(r.interface, r.target, r.order_key) for r in candidates}
    found = await conn.execute(
        select(h.interface, h.target, h.business_key, h.head_id, d.message_id, d.status)
        .join(deliveries, d.id == h.head_id)
        .where(tuple_(h.interface, h.target, h.business_key).in_(list(keys)))
    )
    heads = {(f.interface, f.target, f.business_key): f for f in found}
    out: dict[UUID, dict[str, Any]] = {}
    for r in candidates:
        head = heads.get((r.interface, r.target, r.order_key))
        if head is not None and head.head_id != r.id:
            out[r.id] = {
                "delivery_id": str(head.head_id),
                "message_id": str(head.message_id),
                "status": head.status,
            }
    return out


async def holding(conn: AsyncConnection, rows: Sequence[Row[Any]]) -> dict[UUID, int]:
    """For each head of a key among ``rows``: how many deliveries wait behind it."""
    ids = [
        r.id
        for r in rows
        if r.order_key is not None and r.status in (DeliveryStatus.PENDING, DeliveryStatus.PARKED)
    ]
    if not ids:
        return {}
    h = ordering_heads.c
    waiting = deliveries.alias("waiting")
    query = (
        select(h.head_id, func.count(waiting.c.id))
        .join(
            waiting,
            and_(
                waiting.c.interface == h.interface,
                waiting.c.target == h.target,
                waiting.c.order_key == h.business_key,
                waiting.c.status == DeliveryStatus.PENDING,
                waiting.c.id != h.head_id,
            ),
        )
        .where(h.head_id.in_(ids))
        .group_by(h.head_id)
    )
    return {head: int(n) for head, n in await conn.execute(query)}


async def blocked_counts(conn: AsyncConnection) -> dict[tuple[str, str], int]:
    """Per interface and target, how many deliveries wait behind their key's head."""
    d = deliveries.c
    query = (
        select(d.interface, d.target, func.count())
        .where(waiting_condition())
        .group_by(d.interface, d.target)
    )
    return {(i, t): int(n) for i, t, n in await conn.execute(query)}


async def parked_blockers(conn: AsyncConnection, limit: int = 20) -> list[dict[str, Any]]:
    """Parked heads that hold deliveries back, most waiting first: which parked delivery
    (and message, key) blocks how many deliveries of its key."""
    h = ordering_heads.c
    head = deliveries.alias("head")
    waiting = deliveries.alias("waiting")
    n = func.count(waiting.c.id)
    query = (
        select(h.interface, h.target, h.business_key, h.head_id, head.c.message_id, n)
        .join(head, head.c.id == h.head_id)
        .join(
            waiting,
            and_(
                waiting.c.interface == h.interface,
                waiting.c.target == h.target,
                waiting.c.order_key == h.business_key,
                waiting.c.status == DeliveryStatus.PENDING,
            ),
        )
        .where(head.c.status == DeliveryStatus.PARKED)
        .group_by(h.interface, h.target, h.business_key, h.head_id, head.c.message_id)
        .order_by(n.desc(), h.business_key)
        .limit(limit)
    )
    return [
        {
            "interface": r.interface,
            "target": r.target,
            "key": r.business_key,
            "delivery_id": str(r.head_id),
            "message_id": str(r.message_id),
            "blocked": int(r[5]),
        }
        for r in await conn.execute(query)
    ]


async def _stalled(conn: AsyncConnection, limit: int) -> list[Key]:
    """Keys with waiting deliveries whose head is missing or has ended."""
    d, h = deliveries.c, ordering_heads.c
    head = deliveries.alias("head")
    waiting = (
        select(d.interface, d.target, d.order_key).where(waiting_condition()).distinct().subquery()
    )
    w = waiting.c
    query = (
        select(w.interface, w.target, w.order_key)
        .select_from(
            waiting.outerjoin(
                ordering_heads,
                and_(
                    h.interface == w.interface,
                    h.target == w.target,
                    h.business_key == w.order_key,
                ),
            ).outerjoin(head, head.c.id == h.head_id)
        )
        .where(
            or_(
                head.c.id.is_(None),
                head.c.status.not_in([DeliveryStatus.PENDING, DeliveryStatus.PARKED]),
            )
        )
        .limit(limit)
    )
    return [(r.interface, r.target, r.order_key) for r in await conn.execute(query)]


async def restart_stalled(conn: AsyncConnection, now: datetime, limit: int = CHUNK) -> int:
    """The consistency check's safety net: a key whose head is missing or has ended while
    deliveries of it wait (no transaction here leaves that behind, but a hand-edited
    database might) queues its next delivery. Found, then locked, then checked again
    under the lock, so a release committing meanwhile is not repeated. Returns how many
    deliveries were queued."""
    candidates = await _stalled(conn, limit)
    if not candidates:
        return 0
    await _lock_keys(conn, dict.fromkeys(candidates, 0), now)
    still = set(await _stalled(conn, limit)) & set(candidates)
    return await _advance(conn, sorted(still), now)
