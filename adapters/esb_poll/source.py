"""The ``rest-poll`` source: on each tick, one *pull* of a list API.

A pull reads every page first (following ``next_page`` until the API says there are no
more), then hands each item to the pipeline, then moves the watermark on. Reading
first means a pull is all or nothing at the door: an API that fails or answers
garbage on page 3 has handed nothing in and moved nothing, and the next pull asks
again from the same watermark. Items accepted before a store outage cut a pull short
are asked for again and recognised as repeats by their idempotency key (the item's
identity and its change time), so nothing is taken in twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import httpx

from esb.sdk import (
    PayloadTooLarge,
    PluginError,
    SourceContext,
    ValidationFailed,
    auth_headers,
    loads,
    shorten,
)
from esb_poll.answers import (
    BadAnswer,
    at_path,
    content_digest,
    excerpt,
    instant,
    items_of,
    missing,
    next_of,
)
from esb_poll.config import RestPollConfig

__all__ = ["WATERMARK", "PullFailed", "RestPollSource"]

#: The state key of the watermark: the text sent as ``updated_since`` on the next pull.
WATERMARK = "watermark"
#: Longest idempotency key written as it is (a longer one is hashed).
MAX_KEY = 150


class PullFailed(PluginError):
    """The API could not be read (unreachable, too slow, an error status)."""


def shown_url(url: str) -> str:
    """``url`` without its query and credentials: what a log line or an error may show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class RestPollSource:
    """See the module's docstring; the options are :class:`RestPollConfig`."""

    Config: ClassVar[type[RestPollConfig]] = RestPollConfig

    def __init__(self, config: RestPollConfig, context: SourceContext) -> None:
        self.config = config
        self.context = context
        self.zone = ZoneInfo(config.time_zone or context.time_zone)
        self.headers = {
            **{k: v.get_secret_value() for k, v in config.headers.items()},
            **auth_headers(config.auth),
            "Accept": "application/json",
        }
        self._client: httpx.AsyncClient | None = None  # made on first use: no I/O here

    async def run(self) -> None:
        await self.context.every(self.config.interval, self.pull, name="poll")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # one pull --------------------------------------------------------------------------

    async def pull(self) -> int:
        """Read every page, take every item in, then move the watermark; the number of
        items that were new messages. Raises (and moves nothing) when the API failed."""
        since = await self.context.state.get(WATERMARK)
        since = since if isinstance(since, str) else None
        items, cursor = await self.read_pages(since)
        new, refused = await self.take_in(items)
        after = self.next_watermark(since, items, cursor)
        if after is not None and after != since:
            await self.context.state.put(WATERMARK, after)
        self.context.log.info(
            "pulled",
            url=shown_url(self.config.url),
            since=since,
            items=len(items),
            new=new,
            refused=refused,
            watermark=after if after is not None else since,
        )
        return new

    async def read_pages(self, since: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Every item of every page, and the last cursor an answer gave."""
        paging = self.config.paging
        url = self.config.url
        params = dict(self.config.params)
        if since is not None:
            params[self.config.watermark.param] = since
        page: str | None = None if paging.first is None else str(paging.first)
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        for number in range(1, paging.max_pages + 1):
            query = dict(params)
            if page is not None and paging.param is not None:
                query[paging.param] = page
            label = f"page {number} of {shown_url(url)}"
            answer = await self.get(url, query, label)
            items += items_of(answer, self.config.items, label)
            cursor = self._cursor(answer, label) or cursor
            following = next_of(answer, paging.next, label)
            if following is None:
                return items, cursor
            url, params, page = self._next(url, params, following, label)
        raise BadAnswer(
            f"{shown_url(self.config.url)}: still a next page after {paging.max_pages} pages "
            "(paging.max_pages)"
        )

    def _next(
        self, url: str, params: dict[str, str], following: str, label: str
    ) -> tuple[str, dict[str, str], str | None]:
        """Where the next page is: a URL of the same server (taken as it is), or a page
        number or token sent in the paging parameter."""
        if following.startswith(("http://", "https://")):
            mine, theirs = urlsplit(self.config.url), urlsplit(following)
            if (mine.scheme, mine.netloc) != (theirs.scheme, theirs.netloc):
                raise BadAnswer(
                    f"{label}: the next page is on another server ({shown_url(following)}); "
                    "the source only follows pages of its own url"
                )
            return following, {}, None
        if self.config.paging.param is None:
            raise BadAnswer(f"{label}: the answer names a next page but paging.param is none")
        return url, params, following

    def _cursor(self, answer: Any, label: str) -> str | None:
        path = self.config.watermark.cursor
        if path is None:
            return None
        found = at_path(answer, path)
        if missing(found) or found is None or found == "":
            return None
        if isinstance(found, bool) or not isinstance(found, str | int):
            kind = type(found).__name__
            raise BadAnswer(f"{label}: `{path}` should be a cursor text, found {kind}")
        return str(found)

    async def get(self, url: str, params: dict[str, str], label: str) -> Any:
        """One page as JSON; PullFailed or BadAnswer naming the page otherwise."""
        timeout = self.config.timeout
        try:
            async with asyncio.timeout(timeout.total):
                async with self.client.stream(
                    "GET", url, params=params or None, headers=self.headers
                ) as response:
                    body = await self._read(response, label)
        except TimeoutError:
            raise PullFailed(f"{label}: no answer within {timeout.total:g}s") from None
        except httpx.HTTPError as exc:
            raise PullFailed(f"{label}: {type(exc).__name__}: {shorten(str(exc))}") from None
        if not 200 <= response.status_code < 300:
            raise PullFailed(f"{label}: HTTP {response.status_code}: {excerpt(body)}")
        try:
            return loads(body)
        except ValueError:
            raise BadAnswer(f"{label}: the answer is not JSON: {excerpt(body)}") from None

    async def _read(self, response: httpx.Response, label: str) -> bytes:
        limit = self.config.max_body
        data = bytearray()
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) > limit:
                raise BadAnswer(f"{label}: the answer is larger than max_body ({limit} bytes)")
        return bytes(data)

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            timeout = self.config.timeout
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(timeout.total, connect=timeout.connect),
                verify=self.config.verify_tls,
                follow_redirects=False,
            )
        return self._client

    # taking items in -------------------------------------------------------------------

    async def take_in(self, items: list[dict[str, Any]]) -> tuple[int, int]:
        """Each item into the pipeline under its key: (new messages, refused items). A
        refused item is the item's fault (reported, not asked for again once the
        watermark passes it); a store outage ends the pull (StoreUnavailable)."""
        new = refused = 0
        for item in items:
            key = self.key_of(item)
            try:
                accepted = await self.context.accept(item, idempotency_key=key)
            except (ValidationFailed, PayloadTooLarge) as exc:
                refused += 1
                self.context.log.warning("item refused", key=key, error=str(exc))
                continue
            new += int(accepted.created)
        return new, refused

    def key_of(self, item: dict[str, Any]) -> str:
        """``rest-poll:<identity>@<version>``: the item's identity (its ``key`` field, else
        a digest of it) and version (the instant of its watermark field in UTC, so the
        same change written in another offset is the same message; else a digest)."""
        identity = at_path(item, self.config.key)
        who = (
            str(identity)
            if isinstance(identity, str | int) and not isinstance(identity, bool)
            else "sha256:" + content_digest(item)
        )
        moment = self._instant(item)
        version = moment.astimezone(UTC).isoformat() if moment else content_digest(item)[:32]
        key = f"rest-poll:{who}@{version}"
        return key if len(key) <= MAX_KEY else "rest-poll:sha256:" + content_digest(key)

    def _instant(self, item: dict[str, Any]) -> datetime | None:
        field = self.config.watermark.field
        return None if field is None else instant(at_path(item, field), self.zone)

    # the watermark ---------------------------------------------------------------------

    def next_watermark(
        self, since: str | None, items: list[dict[str, Any]], cursor: str | None
    ) -> str | None:
        """The cursor of the pull, or the text of the latest change time among ``since``
        and the items (compared as instants; the text kept as the API wrote it)."""
        if self.config.watermark.cursor is not None:
            return cursor if cursor is not None else since
        best_text, best = since, instant(since, self.zone)
        unread = 0
        for text, moment in self._times(items):
            if moment is None:
                unread += 1
            elif best is None or moment > best:
                best_text, best = text, moment
        if unread:
            self.context.log.warning(
                "items without a readable change time do not move the watermark",
                field=self.config.watermark.field,
                items=unread,
            )
        return best_text

    def _times(self, items: list[dict[str, Any]]) -> Iterator[tuple[str, datetime | None]]:
        field = self.config.watermark.field
        assert field is not None
        for item in items:
            value = at_path(item, field)
            yield (str(value), instant(value, self.zone))
