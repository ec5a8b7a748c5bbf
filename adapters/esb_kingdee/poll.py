"""The ``kingdee-poll`` source: on each tick, bills new or changed since a watermark, read
with ``ExecuteBillQuery``.

A pull asks for the rows whose change time (``FModifyDate``) is at or after the watermark,
ordered by that time and then by the key fields, a page (``Limit``) at a time, until a
short page. Each page is taken in and only then is the watermark moved to the page's
latest time (with the rows read at exactly that time, so they are not taken in twice, nor
lost). The next page asks for the rows after the last one read, in that order (by where
the page ended, not by an offset), so a bill changed while the pull pages moves to the
end and cannot push an unread row out of reach. A failing call, an answer that is no
rows, or a query Kingdee refuses ends the pull and leaves the watermark where the last
page left it; a lost session is a login and the same call again.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx

from esb.sdk import (
    PayloadTooLarge,
    PluginError,
    SourceContext,
    ValidationFailed,
    shorten,
)
from esb_kingdee.answers import Rows
from esb_kingdee.client import KingdeeClient, Refused, Transient
from esb_kingdee.config import KingdeePollConfig
from esb_kingdee.watermark import Boundary, after_string, filter_string, row_key, site_time

__all__ = ["WATERMARK", "BadRows", "KingdeePollSource", "QueryFailed"]

#: The state key of the watermark: ``{"value": "<site time>", "seen": [<keys>]}``.
WATERMARK = "watermark"

#: document, idempotency key, change time, the key fields' values
Row = tuple[dict[str, Any], str, datetime | None, list[Any]]


class QueryFailed(PluginError):
    """Kingdee could not be asked (unreachable, too slow, an error status, a refused login)
    or refused the query."""


class BadRows(PluginError):
    """Kingdee answered rows that are not what the configuration says it reads."""


class KingdeePollSource:
    """See the module's docstring; the options are :class:`KingdeePollConfig`."""

    Config: ClassVar[type[KingdeePollConfig]] = KingdeePollConfig

    def __init__(self, config: KingdeePollConfig, context: SourceContext) -> None:
        self.config = config
        self.context = context
        self.zone = ZoneInfo(config.time_zone or context.time_zone)
        self.client = KingdeeClient(config)  # no I/O until the first pull
        self._moment_at = config.field_keys.index(config.watermark_field)
        self._key_at = [config.field_keys.index(k) for k in config.key]
        self._names = [config.names.get(k, k) for k in config.field_keys]
        self._order = ",".join(f"{f} ASC" for f in (config.watermark_field, *config.key))

    async def run(self) -> None:
        await self.context.every(self.config.interval, self.pull, name="poll")

    async def aclose(self) -> None:
        await self.client.aclose()

    # one pull --------------------------------------------------------------------------

    async def pull(self) -> int:
        """Page through what changed since the watermark, each page taken in before the
        watermark moves past it; the number of rows that were new messages."""
        stored = await self.context.state.get(WATERMARK)
        boundary = Boundary.load(stored, self.config.start, self.zone)
        since = boundary.value
        last: Row | None = None  # where the previous page ended
        read = new = refused = 0
        for page in range(1, self.config.max_pages + 1):
            rows = await self.read_page(since, last, page)
            taken, turned = await self.take_in([r for r in rows if r[1] not in boundary.seen])
            new, refused, read = new + taken, refused + turned, read + len(rows)
            boundary = await self._save(boundary, boundary.advance((m, k) for _, k, m, _ in rows))
            if len(rows) < self.config.page_size:
                break
            last = rows[-1]
        self.context.log.info(
            "pulled", form_id=self.config.form_id, since=_shown(since), rows=read,
            new=new, refused=refused, watermark=_shown(boundary.value), pages=page,
        )  # fmt: skip
        return new

    async def _save(self, before: Boundary, after: Boundary) -> Boundary:
        if after.dump() != before.dump():
            await self.context.state.put(WATERMARK, after.dump())
        return after

    async def read_page(self, since: datetime | None, last: Row | None, page: int) -> list[Row]:
        """One page: from ``since`` on, or after the row ``last`` when a page came before."""
        c = self.config
        label = f"page {page} of {c.form_id} from {_shown(since) or 'the start'}"
        if last is None:
            where = filter_string(c.watermark_field, since, c.filter)
        else:
            _, _, moment, values = last
            if moment is None:
                raise BadRows(f"{label}: a full page ends with a bill without {c.watermark_field}")
            try:
                where = after_string(c.watermark_field, moment, c.key, values, c.filter)
            except ValueError as exc:
                raise BadRows(f"{label}: a key field of the last row: {exc}") from None
        data = {
            "FormId": c.form_id,
            "FieldKeys": ",".join(c.field_keys),
            "FilterString": where,
            "OrderString": self._order,
            "TopRowCount": 0,
            "StartRow": 0,
            "Limit": c.page_size,
        }
        answer = await self._ask(data, label)
        return [self.row(values, label) for values in answer.rows]

    async def _ask(self, data: dict[str, Any], label: str) -> Rows:
        total = self.config.timeout.total
        try:
            async with asyncio.timeout(total):
                answer = await self.client.query(data)
        except TimeoutError:
            raise QueryFailed(f"{label}: Kingdee did not answer within {total:g}s") from None
        except (Transient, Refused) as exc:
            raise QueryFailed(f"{label}: {exc.reason}") from None
        except httpx.HTTPError as exc:
            raise QueryFailed(f"{label}: {type(exc).__name__}: {shorten(str(exc))}") from None
        if not isinstance(answer, Rows):
            raise QueryFailed(f"{label}: Kingdee refused the query: {answer.reason()}")
        return answer

    def row(self, values: list[Any], label: str) -> Row:
        """A row as a document (by field key or its name), its key and change time."""
        if len(values) != len(self._names):
            raise BadRows(
                f"{label}: a row of {len(values)} values for {len(self._names)} field keys"
            )
        raw = values[self._moment_at]
        try:
            moment = site_time(raw, self.zone)
        except ValueError:
            raise BadRows(
                f"{label}: {self.config.watermark_field} {shorten(repr(raw))} is no time"
            ) from None
        names = [values[i] for i in self._key_at]
        key = row_key(self.config.form_id, names, moment, self.zone)
        return dict(zip(self._names, values, strict=True)), key, moment, names

    # taking rows in --------------------------------------------------------------------

    async def take_in(self, rows: list[Row]) -> tuple[int, int]:
        """The page's rows into the pipeline: (new messages, refused rows). A refused row is
        its own fault (reported, and not asked for again once the watermark passes it); a
        store outage ends the pull before the watermark moves."""
        if not rows:
            return 0, 0
        answers = await self.context.accept_many([(doc, key) for doc, key, _, _ in rows])
        new = refused = 0
        for (_, key, _, _), answer in zip(rows, answers, strict=True):
            if isinstance(answer, ValidationFailed | PayloadTooLarge):
                refused += 1
                self.context.log.warning("row refused", key=key, error=str(answer))
            elif isinstance(answer, Exception):
                raise answer  # StoreUnavailable: the pull ends, the watermark stays
            else:
                new += int(answer.created)
        return new, refused


def _shown(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(sep=" ")
