"""The accept transaction: message + one delivery per target + outbox rows, committed together."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from itertools import chain
from typing import Protocol
from uuid import UUID

import orjson
from sqlalchemy import TextClause, select, text, tuple_
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.ids import uuid7s
from esb.status import DeliveryStatus, OutboxStatus
from esb.store import ordering
from esb.store.engine import statements, transaction, translated, utcnow
from esb.store.inline_sqlite import ROWS_PER_STATEMENT, InlineConnection
from esb.store.ordering import Ordered
from esb.store.tables import deliveries, messages
from esb.task import DeliveryTask, stored_body

#: A delivery's place in its key's order: (business key, sequence number).
Place = tuple[str, int]


@dataclass(frozen=True, slots=True)
class NewMessage:
    interface: str
    message_type: str
    source_system: str
    business_key: str | None
    idempotency_key: str
    content_type: str
    body: str
    targets: list[str]
    skipped: list[dict[str, str]] = field(default_factory=list)
    fingerprint: str | None = None  # the canonical hash of the body
    #: targets that receive this key's documents in acceptance order -> supersede (a
    #: later document replaces a waiting one); ignored without a business key
    ordered: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AcceptedDelivery:
    id: UUID
    target: str
    status: str


@dataclass(frozen=True, slots=True)
class Accepted:
    message_id: UUID
    created: bool  # False: a repeat; the first message's id is returned
    deliveries: list[AcceptedDelivery]
    fingerprint: str | None = None  # of the first message's body (a repeat's caller compares)
    #: every delivery went straight to this process's workers: there is nothing to relay
    handed: bool = False


class Workers(Protocol):
    """In-process workers that take new deliveries straight from the accept (embedded):
    their outbox rows are written already claimed, and the relay's claim is not needed."""

    def reserve(self, wanted: int) -> int:
        """Room for up to ``wanted`` deliveries, held until ``hand``; how many."""
        ...

    def hand(self, tasks: Sequence[DeliveryTask], reserved: int) -> None:
        """After the commit (or, with no tasks, after a failure): the tasks go to the
        workers and the rest of the ``reserved`` room is given back."""
        ...


def _identity(new: NewMessage) -> tuple[str, str, str]:
    return (new.source_system, new.message_type, new.idempotency_key)


async def _existing(
    conn: AsyncConnection, repeats: list[NewMessage]
) -> dict[tuple[str, str, str], Accepted]:
    """The first message of each repeat, with its deliveries as they are now."""
    key = tuple_(messages.c.source_system, messages.c.message_type, messages.c.idempotency_key)
    rows = (
        await conn.execute(
            select(
                messages.c.id,
                messages.c.source_system,
                messages.c.message_type,
                messages.c.idempotency_key,
                messages.c.fingerprint,
            ).where(key.in_([_identity(n) for n in repeats]))
        )
    ).all()
    found = {(r[1], r[2], r[3]): r.id for r in rows}
    fingerprints = {r.id: r.fingerprint for r in rows}
    dels: dict[UUID, list[AcceptedDelivery]] = {mid: [] for mid in found.values()}
    for d in await conn.execute(
        select(deliveries.c.message_id, deliveries.c.id, deliveries.c.target, deliveries.c.status)
        .where(deliveries.c.message_id.in_(list(found.values())))
        .order_by(deliveries.c.target)
    ):
        dels[d.message_id].append(AcceptedDelivery(d.id, d.target, d.status))
    return {k: Accepted(mid, False, dels[mid], fingerprints[mid]) for k, mid in found.items()}


#: PostgreSQL: the whole accept in one statement (one round trip before the COMMIT).
#: Deliveries are inserted only for the messages that were new, their outbox rows only
#: for those deliveries not ordered by key (``ordering.start`` queues those); the foreign
#: keys are checked at the end of the statement, when the messages are there.
ACCEPT_PG: TextClause = text(
    """
WITH inserted AS (
    INSERT INTO messages (id, interface, message_type, source_system, business_key,
                          idempotency_key, fingerprint, content_type, body, skipped, received_at)
    SELECT m.*, CAST(:now AS timestamptz)
    FROM unnest(CAST(:ids AS uuid[]), CAST(:interfaces AS text[]), CAST(:types AS text[]),
                CAST(:sources AS text[]), CAST(:business_keys AS text[]),
                CAST(:idempotency_keys AS text[]), CAST(:fingerprints AS text[]),
                CAST(:content_types AS text[]), CAST(:bodies AS text[]),
                CAST(:skipped AS text[])) AS m
    ON CONFLICT (source_system, message_type, idempotency_key) DO NOTHING
    RETURNING id
), new_deliveries AS (
    INSERT INTO deliveries (id, message_id, interface, target, status, attempts,
                            round_attempts, next_attempt_at, created_at, updated_at,
                            order_key, order_seq)
    SELECT d.id, d.message_id, d.interface, d.target, :pending, 0, 0,
           CAST(:now AS timestamptz), CAST(:now AS timestamptz), CAST(:now AS timestamptz),
           d.order_key, d.order_seq
    FROM unnest(CAST(:delivery_ids AS uuid[]), CAST(:delivery_messages AS uuid[]),
                CAST(:delivery_interfaces AS text[]), CAST(:delivery_targets AS text[]),
                CAST(:delivery_order_keys AS text[]), CAST(:delivery_order_seqs AS bigint[]))
         AS d(id, message_id, interface, target, order_key, order_seq)
    JOIN inserted ON inserted.id = d.message_id
    RETURNING id, order_key
), new_outbox AS (
    INSERT INTO outbox (delivery_id, status, available_at, created_at)
    SELECT id, :outbox_pending, CAST(:now AS timestamptz), CAST(:now AS timestamptz)
    FROM new_deliveries WHERE order_key IS NULL
)
SELECT id FROM inserted
"""
)


def _pg_parameters(
    batch: Sequence[NewMessage],
    ids: list[UUID],
    planned: list[list[AcceptedDelivery]],
    now: datetime,
    places: Mapping[UUID, Place],
) -> dict[str, object]:
    """One array per column: the messages', and the planned deliveries' (flattened)."""
    planned_deliveries = [
        (new, message_id, d)
        for new, message_id, created in zip(batch, ids, planned, strict=True)
        for d in created
    ]
    return {
        "ids": list(ids),
        "interfaces": [n.interface for n in batch],
        "types": [n.message_type for n in batch],
        "sources": [n.source_system for n in batch],
        "business_keys": [n.business_key for n in batch],
        "idempotency_keys": [n.idempotency_key for n in batch],
        "fingerprints": [n.fingerprint for n in batch],
        "content_types": [n.content_type for n in batch],
        "bodies": [n.body for n in batch],
        "skipped": [orjson.dumps(n.skipped).decode() if n.skipped else None for n in batch],
        "delivery_ids": [d.id for _, _, d in planned_deliveries],
        "delivery_messages": [message_id for _, message_id, _ in planned_deliveries],
        "delivery_interfaces": [new.interface for new, _, _ in planned_deliveries],
        "delivery_targets": [d.target for _, _, d in planned_deliveries],
        "delivery_order_keys": [_at(places, d, 0) for _, _, d in planned_deliveries],
        "delivery_order_seqs": [_at(places, d, 1) for _, _, d in planned_deliveries],
        "now": now,
        "pending": DeliveryStatus.PENDING.value,
        "outbox_pending": OutboxStatus.PENDING.value,
    }


def _at(places: Mapping[UUID, Place], d: AcceptedDelivery, index: int) -> object:
    place = places.get(d.id)
    return None if place is None else place[index]


async def _insert_pg(
    conn: AsyncConnection,
    batch: Sequence[NewMessage],
    ids: list[UUID],
    planned: list[list[AcceptedDelivery]],
    now: datetime,
    places: Mapping[UUID, Place],
    room: int = 0,
) -> tuple[set[UUID], list[Handed]]:
    result = await conn.execute(ACCEPT_PG, _pg_parameters(batch, ids, planned, now, places))
    return set(result.scalars()), []


#: SQLite: the driver's own ``executemany`` with each value as SQLAlchemy stores it (a UUID
#: as 32 hex digits, a time as naive UTC text): the same rows as Core would write, without
#: its per-value processing, which cost more than SQLite's own work for a page of rows.
_SQLITE_MESSAGES = (
    "INSERT INTO messages (id, interface, message_type, source_system, business_key, "
    "idempotency_key, fingerprint, content_type, body, skipped, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (source_system, message_type, idempotency_key) DO NOTHING"
)
_SQLITE_DELIVERIES = (
    "INSERT INTO deliveries (id, message_id, interface, target, status, attempts, "
    "round_attempts, redeliveries, next_attempt_at, created_at, updated_at, order_key, "
    "order_seq) VALUES (?, ?, ?, ?, ?, 0, 0, 0, ?, ?, ?, ?, ?)"
)
_SQLITE_OUTBOX = (
    "INSERT INTO outbox (delivery_id, status, available_at, created_at) VALUES (?, ?, ?, ?)"
)


def sqlite_time(moment: datetime) -> str:
    """A time as the store's ``UtcDateTime`` keeps it in SQLite (sortable text, UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


#: Outbox rows handed straight to this process's workers: claimed, ids returned.
_SQLITE_CLAIMED = "INSERT INTO outbox (delivery_id, status, available_at, created_at) VALUES "


@dataclass(frozen=True, slots=True)
class Handed:
    """A delivery written as claimed in the accept, for this process's workers."""

    new: NewMessage
    message_id: UUID
    delivery_id: UUID
    target: str
    outbox_id: int

    def task(self, received_at: datetime) -> DeliveryTask:
        """What the relay would have built from the claimed row (its first attempt)."""
        new = self.new
        return DeliveryTask(
            outbox_id=self.outbox_id,
            delivery_id=self.delivery_id,
            message_id=self.message_id,
            interface=new.interface,
            target=self.target,
            message_type=new.message_type,
            business_key=new.business_key,
            attempt=1,
            round_attempt=1,
            received_at=received_at,
            content_type=new.content_type,
            body=stored_body(new.content_type, new.body, verbatim=False),
        )


def _message_rows(
    batch: Sequence[NewMessage], ids: list[UUID], at: str
) -> list[tuple[object, ...]]:
    return [
        (
            i.hex,
            n.interface,
            n.message_type,
            n.source_system,
            n.business_key,
            n.idempotency_key,
            n.fingerprint,
            n.content_type,
            n.body,
            orjson.dumps(n.skipped).decode() if n.skipped else None,
            at,
        )
        for n, i in zip(batch, ids, strict=True)
    ]


@dataclass
class _SqliteRows:
    """The delivery and outbox rows of the messages inserted, as the driver binds them."""

    deliveries: list[tuple[object, ...]]
    queued: list[tuple[object, ...]]  # outbox rows for the relay
    #: deliveries whose outbox row is written claimed, for this process's workers
    direct: list[tuple[NewMessage, UUID, AcceptedDelivery]]


def _delivery_rows(
    batch: Sequence[NewMessage],
    ids: list[UUID],
    planned: list[list[AcceptedDelivery]],
    at: str,
    places: Mapping[UUID, Place],
    room: int,
    inserted: set[UUID] | None,
) -> _SqliteRows:
    """``inserted`` None: every message was inserted."""
    made = _SqliteRows([], [], [])
    pending, queued = DeliveryStatus.PENDING.value, OutboxStatus.PENDING.value
    for new, message_id, created in zip(batch, ids, planned, strict=True):
        if inserted is not None and message_id not in inserted:
            continue
        message_hex = message_id.hex
        for d in created:
            delivery_hex = d.id.hex
            place = places.get(d.id) if places else None
            row = (delivery_hex, message_hex, new.interface, d.target, pending, at, at, at)
            if place is not None:  # ordered ones are queued by ordering.start
                made.deliveries.append((*row, *place))
                continue
            made.deliveries.append((*row, None, None))
            if len(made.direct) < room:
                made.direct.append((new, message_id, d))
            else:
                made.queued.append((delivery_hex, queued, at, at))
    return made


async def _insert_each_table(
    conn: AsyncConnection,
    batch: Sequence[NewMessage],
    ids: list[UUID],
    planned: list[list[AcceptedDelivery]],
    now: datetime,
    places: Mapping[UUID, Place],
    room: int = 0,
) -> tuple[set[UUID], list[Handed]]:
    """SQLite: one ``executemany`` per table (no data-modifying WITH there). Up to ``room``
    unordered deliveries get their outbox row already claimed, for this process's workers."""
    at = sqlite_time(now)
    written = await conn.exec_driver_sql(_SQLITE_MESSAGES, _message_rows(batch, ids, at))
    inserted = set(ids) if written.rowcount == len(ids) else await _present(conn, ids)
    rows = _delivery_rows(batch, ids, planned, at, places, room, inserted)
    if rows.deliveries:
        await conn.exec_driver_sql(_SQLITE_DELIVERIES, rows.deliveries)
    if rows.queued:
        await conn.exec_driver_sql(_SQLITE_OUTBOX, rows.queued)
    return inserted, await _insert_claimed(conn, rows.direct, at) if rows.direct else []


async def _write_new_page(
    engine: AsyncEngine,
    batch: Sequence[NewMessage],
    ids: list[UUID],
    planned: list[list[AcceptedDelivery]],
    now: datetime,
    room: int,
) -> tuple[set[UUID], list[Handed]] | None:
    """SQLite, nothing ordered by key: the whole transaction (``BEGIN IMMEDIATE``, the
    inserts, ``COMMIT``) in ONE call on the writer's thread. Each statement handed to the
    thread alone cost a round trip through the event loop, which waits its turn behind
    the next page's checks: half an accept's time at a staging table's rate (issue 12).
    None, with nothing written, when a message was there already: the caller then takes
    the general path, which answers repeats."""
    page = _Page(sqlite_time(now))
    direct = page.add(batch, ids, planned, room)
    with translated():
        async with engine.connect() as conn:
            writer = (await conn.get_raw_connection()).driver_connection
            assert isinstance(writer, InlineConnection)  # the embedded writer, always
            try:
                outbox_ids = await writer.alone(partial(page.write, writer.variable_limit))
            except sqlite3.Error as exc:  # as SQLAlchemy raises it, for ``translated``
                raise sa_exc.DBAPIError.instance(None, None, exc, sqlite3.Error) from exc
    if outbox_ids is None:
        return None
    return set(ids), [
        Handed(new, message_id, d.id, d.target, outbox_ids[d.id.hex])
        for new, message_id, d in direct
    ]


#: A page's inserts: the columns every row of a group shares are bound once (``?1`` ...),
#: the others come row by row from ``VALUES`` (``column1`` ...). A third of the values
#: to bind, which the writer's thread does holding the GIL: a fifth of its time (issue 12).
_PAGE_MESSAGES = (
    "INSERT INTO messages (id, interface, message_type, source_system, business_key, "
    "idempotency_key, fingerprint, content_type, body, skipped, received_at) "
    "SELECT column1, ?1, ?2, ?3, column2, column3, column4, ?4, column5, column6, ?5 FROM ",
    " WHERE true ON CONFLICT (source_system, message_type, idempotency_key) DO NOTHING",
)
_PAGE_DELIVERIES = (
    "INSERT INTO deliveries (id, message_id, interface, target, status, attempts, "
    "round_attempts, redeliveries, next_attempt_at, created_at, updated_at) "
    "SELECT column1, column2, ?1, ?2, ?3, 0, 0, 0, ?4, ?4, ?4 FROM ",
    "",
)
_PAGE_OUTBOX = (
    "INSERT INTO outbox (delivery_id, status, available_at, created_at) "
    "SELECT column1, ?1, ?2, ?2 FROM ",
    "",
)
_CLAIMED_RETURNING = (_PAGE_OUTBOX[0], " RETURNING id, delivery_id")


def _shared(
    statement: tuple[str, str],
    shared: tuple[object, ...],
    rows: Sequence[tuple[object, ...]],
    limit: int,
) -> Iterator[tuple[str, list[object]]]:
    """``statement`` (head, tail) for ``rows``, as many times as the binding limit needs
    (no rows: none)."""
    if not rows:
        return
    width = len(rows[0])
    per = max(1, min(ROWS_PER_STATEMENT, (limit - len(shared)) // width))
    group = f"({', '.join(['?'] * width)})"
    head, tail = statement
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        values = [*shared, *chain.from_iterable(chunk)]
        yield f"{head}(VALUES {', '.join([group] * len(chunk))}){tail}", values


@dataclass(slots=True)
class _Page:
    """A page's rows, grouped by what they share, written by ``write`` on the writer's
    thread."""

    at: str
    #: (interface, message type, source, content type) -> (id, key, idempotency key,
    #: fingerprint, body, skipped)
    messages: dict[tuple[object, ...], list[tuple[object, ...]]] = field(default_factory=dict)
    #: (interface, target) -> (id, message id)
    deliveries: dict[tuple[object, ...], list[tuple[object, ...]]] = field(default_factory=dict)
    queued: list[tuple[object, ...]] = field(default_factory=list)  # (delivery id,) relayed
    claimed: list[tuple[object, ...]] = field(default_factory=list)  # for this process

    def add(
        self,
        batch: Sequence[NewMessage],
        ids: list[UUID],
        planned: list[list[AcceptedDelivery]],
        room: int,
    ) -> list[tuple[NewMessage, UUID, AcceptedDelivery]]:
        """The messages' rows; up to ``room`` deliveries written claimed (returned)."""
        direct: list[tuple[NewMessage, UUID, AcceptedDelivery]] = []
        for new, message_id, created in zip(batch, ids, planned, strict=True):
            message_hex = message_id.hex
            shared = (new.interface, new.message_type, new.source_system, new.content_type)
            skipped = orjson.dumps(new.skipped).decode() if new.skipped else None
            row = (message_hex, new.business_key, new.idempotency_key, new.fingerprint)
            self.messages.setdefault(shared, []).append((*row, new.body, skipped))
            for d in created:
                delivery_hex = d.id.hex
                self.deliveries.setdefault((new.interface, d.target), []).append(
                    (delivery_hex, message_hex)
                )
                if len(direct) < room:
                    direct.append((new, message_id, d))
                    self.claimed.append((delivery_hex,))
                else:
                    self.queued.append((delivery_hex,))
        return direct

    def write(self, limit: int, conn: sqlite3.Connection) -> dict[str, int] | None:
        """One transaction; the claimed rows' outbox ids by delivery id, or None (rolled
        back) when a message was a repeat."""
        at, pending = self.at, DeliveryStatus.PENDING.value
        cursor = conn.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            written = expected = 0
            for shared, rows in self.messages.items():
                expected += len(rows)
                for sql, values in _shared(_PAGE_MESSAGES, (*shared, at), rows, limit):
                    written += cursor.execute(sql, values).rowcount
            if written != expected:
                cursor.execute("ROLLBACK")
                return None
            for (interface, target), rows in self.deliveries.items():
                for sql, values in _shared(
                    _PAGE_DELIVERIES, (interface, target, pending, at), rows, limit
                ):
                    cursor.execute(sql, values)
            queued = (OutboxStatus.PENDING.value, at)
            for sql, values in _shared(_PAGE_OUTBOX, queued, self.queued, limit):
                cursor.execute(sql, values)
            outbox_ids: dict[str, int] = {}
            claimed = (OutboxStatus.CLAIMED.value, at)
            for sql, values in _shared(_CLAIMED_RETURNING, claimed, self.claimed, limit):
                found = cursor.execute(sql, values).fetchall()
                outbox_ids.update((delivery, outbox) for outbox, delivery in found)
            cursor.execute("COMMIT")
            return outbox_ids
        except BaseException:
            if conn.in_transaction:
                cursor.execute("ROLLBACK")
            raise
        finally:
            cursor.close()


async def _insert_claimed(
    conn: AsyncConnection, direct: list[tuple[NewMessage, UUID, AcceptedDelivery]], at: str
) -> list[Handed]:
    """One multi-row ``INSERT ... RETURNING`` (SQLite returns rows in no set order: they
    are matched by delivery id)."""
    values = ", ".join(["(?, ?, ?, ?)"] * len(direct))
    claimed = OutboxStatus.CLAIMED.value
    parameters = tuple(v for _, _, d in direct for v in (d.id.hex, claimed, at, at))
    result = await conn.exec_driver_sql(
        f"{_SQLITE_CLAIMED}{values} RETURNING id, delivery_id", parameters
    )
    outbox_ids = {str(row.delivery_id): int(row.id) for row in result}
    return [
        Handed(new, message_id, d.id, d.target, outbox_ids[d.id.hex])
        for new, message_id, d in direct
    ]


async def _present(conn: AsyncConnection, ids: list[UUID]) -> set[UUID]:
    """Which of ``ids`` the messages table holds (the rest were repeats, not inserted)."""
    found = await conn.execute(select(messages.c.id).where(messages.c.id.in_(ids)))
    return set(found.scalars())


async def accept_messages(
    engine: AsyncEngine, batch: Sequence[NewMessage], workers: Workers | None = None
) -> list[Accepted]:
    """Store messages, their deliveries and outbox rows in ONE transaction (group commit).

    Repeats (same source, type and idempotency key; also two in one batch) get the
    first message's id and create nothing. With ``workers`` (embedded, SQLite) new
    deliveries not ordered by key go straight to them after the commit, as far as they
    have room: no relay claim, no second write. A process that dies with them in hand
    is covered by the start-up's ``release_claims``, as for the relay's claims.
    """
    now = utcnow()
    ids = uuid7s(len(batch))
    delivery_ids = iter(uuid7s(sum(len(new.targets) for new in batch)))
    pending = DeliveryStatus.PENDING  # an enum member looked up once, not per delivery
    planned = [
        [AcceptedDelivery(next(delivery_ids), t, pending) for t in new.targets] for new in batch
    ]
    ordered = _ordered(batch, ids, planned)
    taker = workers if engine.dialect.name == "sqlite" else None
    room = taker.reserve(sum(map(_unordered, batch))) if taker is not None else 0
    handed: list[Handed] = []
    tasks: list[DeliveryTask] = []
    # PostgreSQL without ordering: the accept is ONE statement, atomic by itself, so it
    # commits on its own (no BEGIN and COMMIT round trips); repeats are read after it
    alone = engine.dialect.name == "postgresql" and not ordered
    try:
        written = (
            await _write_new_page(engine, batch, ids, planned, now, room)
            if engine.dialect.name == "sqlite" and not ordered
            else None
        )
        if written is not None:  # new messages, nothing ordered: committed in one call
            inserted, handed = written
            tasks = [h.task(now) for h in handed]
            return _accepted(batch, ids, planned, inserted, handed, set(), {})
        async with (statements if alone else transaction)(engine) as conn:
            # the keys' head rows first: every transaction locks heads before deliveries
            reserved = await ordering.reserve(conn, ordered, now) if ordered else None
            places: dict[UUID, Place] = (
                {o.delivery_id: (o.key, reserved.seqs[o.delivery_id]) for o in ordered}
                if reserved is not None
                else {}
            )
            insert = _insert_pg if conn.dialect.name == "postgresql" else _insert_each_table
            inserted, handed = await insert(conn, batch, ids, planned, now, places, room)
            superseded: set[UUID] = set()
            if reserved is not None:
                new = [o for o in ordered if o.message_id in inserted]
                superseded = await ordering.start(conn, new, reserved, now)
            repeats = [n for n, i in zip(batch, ids, strict=True) if i not in inserted]
            existing = await _existing(conn, repeats) if repeats else {}
        tasks = [h.task(now) for h in handed]
    finally:  # committed: the tasks go to the workers; failed: only the room goes back
        if taker is not None and room:
            taker.hand(tasks, room)
    return _accepted(batch, ids, planned, inserted, handed, superseded, existing)


def _accepted(
    batch: Sequence[NewMessage],
    ids: list[UUID],
    planned: list[list[AcceptedDelivery]],
    inserted: set[UUID],
    handed: list[Handed],
    superseded: set[UUID],
    existing: Mapping[tuple[str, str, str], Accepted],
) -> list[Accepted]:
    """Each message's answer: created (and whether all its deliveries were handed), or
    the first message's for a repeat."""
    direct = Counter(h.message_id for h in handed)
    return [
        Accepted(
            message_id,
            True,
            _answered(created, superseded),
            handed=bool(direct) and 0 < direct.get(message_id, 0) == len(created),
        )
        if message_id in inserted
        else existing[_identity(new)]
        for new, message_id, created in zip(batch, ids, planned, strict=True)
    ]


def _unordered(new: NewMessage) -> int:
    """How many of its deliveries are not held in key order (those may go straight out)."""
    return len(new.targets) - (len(new.ordered) if new.business_key is not None else 0)


def _ordered(
    batch: Sequence[NewMessage], ids: list[UUID], planned: list[list[AcceptedDelivery]]
) -> list[Ordered]:
    """The planned deliveries that go out in key order, in submit order."""
    return [
        Ordered(d.id, message_id, new.interface, d.target, new.business_key, new.ordered[d.target])
        for new, message_id, created in zip(batch, ids, planned, strict=True)
        if new.business_key is not None
        for d in created
        if d.target in new.ordered
    ]


def _answered(created: list[AcceptedDelivery], superseded: set[UUID]) -> list[AcceptedDelivery]:
    """The deliveries as the caller is told: one replaced within its own batch says so."""
    if not superseded:
        return created
    return [
        AcceptedDelivery(d.id, d.target, DeliveryStatus.SUPERSEDED) if d.id in superseded else d
        for d in created
    ]
