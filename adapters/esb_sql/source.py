"""The ``sql-poll`` source: rows of a staging table (中间表) become messages, and each row's
fate is written back into it.

Each run (on the interface's schedule, in one gateway process at a time) does three things:

1. **Intake**: rows matching the condition (by default the flag column at ``new``) are read
   in key order, ``batch`` at a time; each row is one document, accepted with the
   idempotency key ``sql:<table>:<key>``, so a row read twice (the gateway killed between
   accepting and writing back) is the same message. Accepted rows get flag ``accepted``;
   a row refused at the door (the schema: a negative ``qty_good``) gets ``failed`` with the
   reason naming the field. The store being away stops the run: the rows stay new.
2. **Outcomes**: accepted rows are asked about (``context.outcomes``): every target has it
   -> ``delivered``; parked or discarded -> ``failed`` with the reason. A parked row is
   remembered in the source's state, so a replay that delivers it moves it to
   ``delivered`` (a discarded one keeps ``failed`` with the operator's reason).
3. Without write-back (a read-only database user), the largest key taken in is kept in the
   source's state instead, and rows after it are read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from esb.sdk import (
    EsbError,
    InboundConfig,
    MessageOutcome,
    SourceContext,
    ValidationFailed,
    shorten,
)
from esb_sql.config import SqlPollConfig, WriteBack
from esb_sql.database import open_engine, shown_url
from esb_sql.statements import Statements
from esb_sql.values import RowRefused, documents

__all__ = ["SqlPollSource", "refusal"]

T = TypeVar("T")
#: What stopped a page (None: nothing), set once the page is decided.
Decided = asyncio.Future[BaseException | None]
#: Where the key watermark (no write-back) is kept in the source's state.
WATERMARK = "watermark"
#: Pages checked, committed or written back at once (and one more being read): while the
#: store commits one, the next ones queue, and an embedded store commits them together,
#: while earlier ones have their flags written back.
PAGES_AT_WORK = 7
#: Prefix of the state keys of parked rows still watched (a replay may deliver them).
PARKED = "parked/"


def refusal(error: BaseException) -> str | None:
    """Why the gateway refused a row (the fields named), or None when the failure is not
    the row's (the store away: the row is read again later)."""
    if isinstance(error, ValidationFailed):
        if error.code == "idempotency_key_reused":  # the same row key, another content
            return (
                "the row changed after the gateway had accepted it (the same key with other "
                "values); a corrected report needs a new row"
            )
        return "; ".join(f"{p.field or '(row)'}: {p.message}" for p in error.problems)
    status = getattr(error, "http_status", 500)
    if isinstance(error, EsbError) and isinstance(status, int) and 400 <= status < 500:
        return str(error)
    return None


class SqlPollSource:
    """See the module's docstring."""

    Config: ClassVar[type[InboundConfig]] = SqlPollConfig

    def __init__(self, config: SqlPollConfig, context: SourceContext) -> None:
        self.config = config
        self.context = context
        self.zone = ZoneInfo(config.time_zone or context.time_zone)
        self.sql = Statements(config)
        self.write_back: WriteBack | None = config.write_back or None
        self.engine: AsyncEngine = open_engine(
            config.url.get_secret_value(), pool_size=config.pool_size, timeout=config.timeout
        )
        self.leave_out = self.write_back.columns() if self.write_back else set()

    async def run(self) -> None:
        self.context.log.info(
            "polling a table",
            database=shown_url(self.config.url.get_secret_value()),
            table=self.config.table,
            interval=self.config.interval,
        )
        await self.context.every(self.config.interval, self.poll)

    async def aclose(self) -> None:
        await self.engine.dispose()

    # one run ---------------------------------------------------------------------------

    async def poll(self) -> int:
        """One run: take the new rows in, then write back what became of earlier ones."""
        taken = await self.intake()
        if self.write_back is not None:
            await self.follow_accepted()
            await self.follow_parked()
        return taken

    def idempotency_key(self, key: Any) -> str:
        return f"sql:{self.config.table}:{key}"

    def now(self) -> datetime:
        """The write-back time: factory local time without a zone, as DATETIME holds it."""
        return self.context.clock.now().astimezone(self.zone).replace(tzinfo=None)

    async def _db(self, work: Callable[[], Awaitable[T]]) -> T:
        """One call to the user's database, bounded by ``timeout`` whatever the driver."""
        async with asyncio.timeout(self.config.timeout * 2):
            return await work()

    async def _select(self, statement: Any) -> list[dict[str, Any]]:
        columns, rows = await self._page(statement)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    async def _page(self, statement: Any) -> tuple[list[str], list[Sequence[Any]]]:
        """The rows of ``statement`` as the driver gives them, and their column names."""

        async def go() -> tuple[list[str], list[Sequence[Any]]]:
            async with self.engine.connect() as conn:
                result = await conn.execute(statement)
                return list(result.keys()), list(result.all())

        return await self._db(go)

    async def _write(self, statement: Any, parameters: list[dict[str, Any]] | None = None) -> None:
        async def go() -> None:
            async with self.engine.begin() as conn:
                await conn.execute(statement, parameters or {})

        await self._db(go)

    # intake ----------------------------------------------------------------------------

    async def intake(self) -> int:
        """New rows, page by page in key order, several pages at work at once: the next one
        read from the MES database, the others checked and queued to the store, committed,
        or having their flags written back (``PAGES_AT_WORK``). Pages are accepted in key
        order, and each waits for the one before to be decided (accepted, or stopped by
        the store): a page after one that stopped the run writes nothing back. With
        write-back the flags of pages decided are then written side by side; with a key
        watermark, a page is decided only once its watermark is kept, so the watermark
        only moves forward."""
        after = None if self.write_back else await self.context.state.get(WATERMARK)
        taken = 0
        page = asyncio.ensure_future(self._page(self.sql.new_rows(after, self.config.batch)))
        working: list[asyncio.Future[int]] = []
        decided: Decided | None = None
        try:
            while True:
                columns, rows = await page
                if not rows:
                    break
                full = len(rows) >= self.config.batch
                if full:
                    last = rows[-1][columns.index(self.config.key)]
                    following = self.sql.new_rows(last, self.config.batch)
                    page = asyncio.ensure_future(self._page(following))
                before, decided = decided, asyncio.get_running_loop().create_future()
                working.append(asyncio.ensure_future(self._take(columns, rows, before, decided)))
                if len(working) >= PAGES_AT_WORK:
                    taken += await working.pop(0)
                if not full:
                    break
            for step in working:
                taken += await step
            return taken
        finally:
            unfinished: list[asyncio.Future[Any]] = [page, *working]
            for pending in unfinished:
                if not pending.done():
                    pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pending

    async def _take(
        self,
        columns: list[str],
        rows: list[Sequence[Any]],
        before: Decided | None,
        decided: Decided,
    ) -> int:
        """One page: accepted together (the gateway commits it as a group), decided once
        the page ``before`` is, then written back per row; the store away: what was
        accepted before the first failure is flagged, then the run stops. ``decided``
        gets what stopped this page (None: nothing) for the page after it."""
        try:
            accepted, failed, stopped = await self._accept_page(columns, rows, before)
            if self.write_back is not None:
                decided.set_result(stopped)
            await self._settle(accepted, failed)
        except BaseException as exc:
            if not decided.done():
                decided.set_result(exc)
            raise
        if not decided.done():
            decided.set_result(stopped)
        if stopped is not None:
            raise stopped
        return len(accepted) + len(failed)

    async def _accept_page(
        self, columns: list[str], rows: list[Sequence[Any]], before: Decided | None
    ) -> tuple[list[Any], dict[Any, str], BaseException | None]:
        """The page's rows accepted and refused (with the reason), and what stopped it
        (the rows from the first one the store could not take are in neither)."""
        key = columns.index(self.config.key)
        checked: list[tuple[Any, dict[str, Any]]] = []
        failed: dict[Any, str] = {}
        made = documents(columns, rows, self.zone, self.leave_out)
        for row, doc in zip(rows, made, strict=True):
            if isinstance(doc, RowRefused):
                failed[row[key]] = str(doc)
            else:
                checked.append((row[key], doc))
        answers = await self.context.accept_many(
            [(doc, self.idempotency_key(k)) for k, doc in checked]
        )
        if before is not None and (earlier := await asyncio.shield(before)) is not None:
            raise earlier  # the page before stopped the run: this one is not written back
        accepted: list[Any] = []
        stopped: BaseException | None = None
        for (row_key, _), answer in zip(checked, answers, strict=True):
            if not isinstance(answer, BaseException):
                accepted.append(row_key)
            elif (reason := refusal(answer)) is not None:
                failed[row_key] = reason
            elif stopped is None:
                stopped = answer
        if stopped is not None:  # flag or remember only the rows before the first failure
            first = next(k for (k, _), a in zip(checked, answers, strict=True) if a is stopped)
            accepted = [k for k in accepted if k < first]
            failed = {k: r for k, r in failed.items() if k < first}
        return accepted, failed, stopped

    async def _settle(self, accepted: list[Any], failed: dict[Any, str]) -> None:
        for row_key, reason in failed.items():
            self.context.log.warning(
                "row refused", table=self.config.table, key=row_key, reason=shorten(reason)
            )
        if self.write_back is None:
            done = [*accepted, *failed]
            if done:
                await self.context.state.put(WATERMARK, max(done))
            return
        if accepted:
            await self._write(self.sql.set_flag(accepted, self.write_back.accepted, self.now()))
        await self._fail(failed)

    async def _fail(self, reasons: dict[Any, str]) -> None:
        if not reasons or self.write_back is None:
            return
        wb, when = self.write_back, self.now()
        await self._write(
            self.sql.set_failed(),
            [
                {"k": k, "f": wb.failed, "m": _bounded(r, wb.message_length), "t": when}
                for k, r in reasons.items()
            ],
        )

    # outcomes --------------------------------------------------------------------------

    async def follow_accepted(self) -> None:
        """Rows flagged accepted, page by page: delivered -> delivered; parked -> failed
        (and watched); discarded -> failed; waiting -> left for a later run."""
        assert self.write_back is not None
        after = None
        while True:
            rows = await self._select(
                self.sql.flagged(self.write_back.accepted, after, self.config.batch)
            )
            keys = [row[self.config.key] for row in rows]
            if not keys:
                return
            await self._apply(keys, self.write_back.accepted)
            after = keys[-1]
            if len(keys) < self.config.batch:
                return

    async def follow_parked(self) -> None:
        """Parked rows (remembered in state): a replay that delivered -> delivered."""
        names = await self.context.state.keys(PARKED)
        for start in range(0, len(names), self.config.batch):
            values = await self.context.state.get_many(names[start : start + self.config.batch])
            await self._apply(list(values.values()), None)

    async def _apply(self, keys: Sequence[Any], flag: int | None) -> None:
        """Write back the outcomes of ``keys`` (rows holding ``flag``; None: watched parked
        rows, already flagged failed)."""
        assert self.write_back is not None
        wb = self.write_back
        by_key = {self.idempotency_key(k): k for k in keys}
        found: dict[str, MessageOutcome] = await self.context.outcomes(list(by_key))
        delivered, parked, discarded = [], {}, {}
        for ikey, outcome in found.items():
            row_key = by_key[ikey]
            if outcome.state == "delivered":
                delivered.append(row_key)
            elif outcome.state == "parked" and flag is not None:
                parked[row_key] = outcome.reason or "parked"
            elif outcome.state == "discarded":
                discarded[row_key] = outcome.reason or "discarded"
        if delivered:
            expected = wb.failed if flag is None else flag
            await self._write(
                self.sql.set_flag(delivered, wb.delivered, self.now(), expected=expected)
            )
        if parked:
            await self.context.state.put_many({self._parked(k): k for k in parked})
            await self._fail(parked)
        await self._fail(discarded)
        if flag is None:
            for row_key in [*delivered, *discarded]:
                await self.context.state.delete(self._parked(row_key))

    def _parked(self, key: Any) -> str:
        return f"{PARKED}{key}"[:250]


def _bounded(reason: str, length: int) -> str:
    return reason if len(reason) <= length else reason[: length - 1] + "…"
