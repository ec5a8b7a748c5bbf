"""The store part: the engine, its group commits and the master-data cache.

Started first and stopped last: every other part writes through it. The group
commits close before the engine, so an outcome submitted by a worker that was
finishing is still committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.batching import GroupCommit, answers
from esb.errors import StoreUnavailable, ValidationFailed
from esb.runtime.part import Health
from esb.settings import Settings
from esb.store.accept import Accepted, NewMessage, Workers, accept_messages
from esb.store.bell import OutboxBell
from esb.store.claims import Claim, ClaimState, check_claims
from esb.store.engine import create_engine, create_read_engine, transaction, utcnow
from esb.store.migrate import ensure_schema
from esb.store.outcomes import AttemptRecord, write_outcomes
from esb.store.refusals import Refusal, count_refusals, field_counted
from esb.xref import XrefCache, seed

log = structlog.get_logger(__name__)


class Store:
    name = "database"

    def __init__(self, settings: Settings, config_folder: Path) -> None:
        self.settings = settings
        self.config_folder = config_folder
        self.engine: AsyncEngine = create_engine(settings)
        #: reads that need no write lock (embedded: beside SQLite's one writer)
        self.reader: AsyncEngine = create_read_engine(settings, self.engine)
        #: a worker's check before its call: one keyed read, run in place (embedded)
        self.claim_reader: AsyncEngine = create_read_engine(
            settings, self.engine, connections=1, in_place=True
        )
        single = self.engine.dialect.name == "sqlite"  # one writer at a time anyway
        #: this process's in-process workers, while they run (embedded): new deliveries
        #: go to them from the accept, without the relay
        self.workers: Workers | None = None
        self.accepts: GroupCommit[NewMessage, Accepted] = GroupCommit(
            lambda batch: accept_messages(self.engine, batch, self.workers),
            writers=1 if single else settings.accept_writers,
            # SQLite's one writer commits what waits, up to four staging-table pages at
            # once: the commit's fsync was a third of a page's write (issue 12)
            max_batch=2000 if single else 500,
            name="accepts",
        )
        #: documents ordered by business key: one writer, so batches commit in the order
        #: their documents were submitted (a file's rows in row order, whatever the load)
        self.ordered_accepts: GroupCommit[NewMessage, Accepted] = (
            self.accepts  # SQLite: one writer already
            if single
            else GroupCommit(
                lambda batch: accept_messages(self.engine, batch),
                writers=1,
                name="ordered-accepts",
            )
        )
        self.claims: GroupCommit[Claim, ClaimState] = GroupCommit(
            lambda batch: check_claims(self.engine, batch, self.claim_reader),
            writers=1 if single else 2,
            retry_unavailable=True,
            name="claims",
        )
        #: called when an outcome queued the next delivery of a business key (ordering)
        self.on_released: Callable[[], None] = lambda: None
        self.outcomes: GroupCommit[AttemptRecord, None] = GroupCommit(
            lambda batch: write_outcomes(self.engine, batch, lambda: self.on_released()),
            retry_unavailable=True,
            name="outcomes",
        )
        self.refusals: GroupCommit[Refusal, None] = GroupCommit(
            lambda batch: count_refusals(self.engine, batch), name="refusals"
        )
        self.xref = XrefCache(self.engine)
        #: PostgreSQL: wakes the relays of other processes (``esb.store.bell``)
        self.bell: OutboxBell | None = None if single else OutboxBell(self.engine)

    async def accept(self, new: NewMessage) -> Accepted:
        """Store a document; one with a target ordered by its business key goes through
        the single-writer group commit (acceptance order is submit order)."""
        ordered = bool(new.ordered) and new.business_key is not None
        return await (self.ordered_accepts if ordered else self.accepts).submit(new)

    async def accept_many(self, news: Sequence[NewMessage]) -> list[Accepted | Exception]:
        """``accept`` for a page of documents, queued at once in their order (those ordered
        by key to the single writer); each document gets its own answer."""
        ordered = [bool(n.ordered) and n.business_key is not None for n in news]
        if not any(ordered):
            return await self.accepts.submit_many(news)
        if all(ordered) or self.ordered_accepts is self.accepts:
            return await self.ordered_accepts.submit_many(news)
        pairs = list(zip(news, ordered, strict=True))
        in_order = iter(self.ordered_accepts.enqueue([n for n, o in pairs if o]))
        any_order = iter(self.accepts.enqueue([n for n, o in pairs if not o]))
        return await answers([next(in_order if o else any_order) for o in ordered])

    async def refused(self, interface: str, refused: Sequence[ValidationFailed]) -> None:
        """Count documents refused at the door, under the factory's date and the field
        named; the caller waits for the count's commit, and a database that is away loses
        the count, never the caller's 422."""
        day = utcnow().astimezone(ZoneInfo(self.settings.time_zone)).date()
        items = [Refusal(interface, day, field_counted(exc.field)) for exc in refused]
        failed = [a for a in await self.refusals.submit_many(items) if isinstance(a, Exception)]
        if failed:
            log.warning("refusals not counted", interface=interface, error=str(failed[0]))

    @property
    def sqlite_file(self) -> Path | None:
        """The embedded database's file (its WAL is checkpointed off the commit path)."""
        if self.engine.dialect.name == "sqlite" and self.engine.url.database:
            return Path(self.engine.url.database)
        return None

    async def start(self) -> None:
        """Schema (embedded: migrated; production: checked), master-data seed, cache."""
        await ensure_schema(
            self.engine, self.settings.effective_database_url, auto=self.settings.embedded
        )
        await seed(self.engine, self.config_folder)
        await self.xref.refresh()

    async def health(self) -> Health:
        try:
            async with transaction(self.engine) as conn:
                await conn.execute(text("SELECT 1"))
        except StoreUnavailable:
            return "unavailable"
        return "ok"

    async def stop(self) -> None:
        await self.accepts.aclose()
        if self.ordered_accepts is not self.accepts:
            await self.ordered_accepts.aclose()
        await self.claims.aclose()
        await self.outcomes.aclose()
        await self.refusals.aclose()
        if self.bell is not None:
            await self.bell.aclose()
        if self.reader is not self.engine:
            await self.reader.dispose()
            await self.claim_reader.dispose()
        await self.engine.dispose()
