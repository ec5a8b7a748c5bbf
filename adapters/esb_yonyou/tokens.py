"""An access token shared by every delivery of one connector, renewed once however many
deliveries find it expired at the same time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

#: Fetches a new token: its value and how many seconds it lives.
Fetch = Callable[[], Awaitable[tuple[str, float]]]


@dataclass(frozen=True)
class _Held:
    value: str
    expires_at: float  # monotonic seconds


class TokenCache:
    """``get`` answers the held token while it has more than ``margin`` seconds to live;
    otherwise one caller fetches (under a lock) and the others wait for its result.
    ``drop(value)`` forgets a token the API refused, only if it is still the one held, so
    twenty deliveries refused with the same old token cause one renewal, not twenty."""

    def __init__(self, fetch: Fetch, margin: float) -> None:
        self._fetch = fetch
        self._margin = margin
        self._held: _Held | None = None
        self._lock = asyncio.Lock()
        self.renewals = 0  # tokens fetched so far

    def _fresh(self) -> str | None:
        held = self._held
        if held is not None and time.monotonic() < held.expires_at - self._margin:
            return held.value
        return None

    async def get(self) -> str:
        value = self._fresh()
        if value is not None:
            return value
        async with self._lock:
            value = self._fresh()
            if value is not None:
                return value
            value, lifetime = await self._fetch()
            self.renewals += 1
            self._held = _Held(value, time.monotonic() + lifetime)
            return value

    def drop(self, value: str) -> None:
        if self._held is not None and self._held.value == value:
            self._held = None
