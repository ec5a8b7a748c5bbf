"""A source's durable state: key -> JSON value, and a lease so one process runs the source.

Every inbound source gets its own store as ``context.state``, scoped to its interface
and kind, so a new source keeps what it must remember (files taken in, a cursor, a
token) without a table of its own. Values are anything JSON can hold; they are
written as JSON and read back as new objects.

The *lease* makes one process at a time the runner of a source when several gateways
share one database: ``run_exclusive(work)`` waits until this process holds the lease,
runs ``work`` while renewing it every third of ``lease_ttl``, stops ``work`` if the
lease is lost (the database away for a whole ``lease_ttl``, or another process took
over), and releases it when ``work`` ends. A process that dies simply stops renewing:
another takes over once its lease expires. Expiry compares wall clocks, so the
gateways' clocks must agree to well within ``lease_ttl`` (NTP does). Values can be
read and written without the lease; a source that must not run twice uses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
import structlog

from esb.sdk._clock import Clock, SystemClock
from esb.sdk._errors import StoreUnavailable
from esb.sdk._json import json_default

__all__ = ["DEFAULT_LEASE_S", "MAX_KEY", "MemoryStateStore", "StateStore", "process_owner"]

log = structlog.get_logger(__name__)
#: How long a lease lasts without renewal: a dead process's source waits this long.
DEFAULT_LEASE_S = 30.0
#: Longest pause between two tries to take a lease (a released one is taken this soon).
MAX_WAIT_S = 2.0
#: Characters of one key (hash a longer natural key, e.g. a file name).
MAX_KEY = 250


def process_owner() -> str:
    """A lease holder's name: this host and process, unique even across restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def check_key(key: str) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY or "\x00" in key:
        raise ValueError(f"a state key is 1 to {MAX_KEY} characters without NUL: {key!r:.80}")
    return key


def encode(value: Any) -> str:
    """A value as the JSON text the store keeps."""
    return orjson.dumps(value, default=json_default).decode()


def decode(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


class StateStore(ABC):
    """One source's keys and values, and its lease. See the module's docstring."""

    def __init__(
        self,
        interface: str,
        kind: str,
        *,
        owner: str | None = None,
        lease_ttl: float = DEFAULT_LEASE_S,
        clock: Clock | None = None,
    ) -> None:
        if lease_ttl <= 0:
            raise ValueError("lease_ttl must be positive")
        self.interface = interface
        self.kind = kind
        self.owner = owner or process_owner()
        self.lease_ttl = lease_ttl
        self.clock: Clock = clock or SystemClock()

    # values ---------------------------------------------------------------------------

    @abstractmethod
    async def get(self, key: str) -> Any:
        """The value of ``key``; None when there is none."""

    @abstractmethod
    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The values of those ``keys`` that have one."""

    @abstractmethod
    async def put(self, key: str, value: Any) -> None:
        """Set ``key`` to ``value`` (replacing what it held)."""

    @abstractmethod
    async def put_many(self, values: Mapping[str, Any]) -> None:
        """Set several keys at once: all of them are written, or none."""

    @abstractmethod
    async def add(self, key: str, value: Any) -> bool:
        """Set ``key`` only if it has no value yet; True if this call set it."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Forget ``key`` (nothing happens if it has no value)."""

    @abstractmethod
    async def keys(self, prefix: str = "") -> list[str]:
        """The keys that start with ``prefix``, sorted."""

    # lease ----------------------------------------------------------------------------

    @abstractmethod
    async def acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours (then renewed)."""

    @abstractmethod
    async def renew(self) -> bool:
        """Extend our lease by ``lease_ttl``; False if it is no longer ours."""

    @abstractmethod
    async def release(self) -> None:
        """Give the lease up (if ours), so another process may take over at once."""

    @abstractmethod
    async def holder(self) -> str | None:
        """Who holds the lease now (None: nobody, or it expired)."""

    def expiry(self) -> datetime:
        return self.clock.now() + timedelta(seconds=self.lease_ttl)

    async def run_exclusive(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` only while this process holds the lease (see the module's docstring).

        Returns when ``work`` returns; raises what it raises. If the lease is lost, ``work``
        is cancelled and started again once the lease is back."""
        while True:
            await self._wait_for_lease()
            lost = False
            try:
                lost = await self._run_held(work)
            finally:
                if not lost:
                    with contextlib.suppress(StoreUnavailable):
                        await asyncio.shield(self.release())
            if not lost:
                return
            log.warning("lease lost; source stopped here", interface=self.interface, kind=self.kind)

    async def _wait_for_lease(self) -> None:
        waiting = False
        while True:
            try:
                if await self.acquire():
                    return
                if not waiting:
                    log.info(
                        "another process runs this source; waiting for its lease",
                        interface=self.interface,
                        kind=self.kind,
                        holder=await self.holder(),
                    )
                    waiting = True
            except StoreUnavailable as exc:
                log.warning("lease cannot be taken; database unavailable", error=str(exc))
            await asyncio.sleep(min(self.lease_ttl / 3, MAX_WAIT_S))

    async def _run_held(self, work: Callable[[], Awaitable[None]]) -> bool:
        """Run ``work`` beside the renewals; True if the lease was lost first."""
        running = asyncio.ensure_future(work())
        keeping = asyncio.ensure_future(self._keep())
        try:
            await asyncio.wait({running, keeping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (running, keeping):
                if not task.done():
                    task.cancel()
            for task in (running, keeping):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if running.done() and not running.cancelled():
            running.result()  # raises what ``work`` raised
            return False
        return True

    async def _keep(self) -> None:
        """Renew until the lease is lost (returns then)."""
        renewed = self.clock.monotonic()
        while True:
            await asyncio.sleep(self.lease_ttl / 3)
            try:
                if not await self.renew():
                    return
                renewed = self.clock.monotonic()
            except StoreUnavailable as exc:
                if self.clock.monotonic() - renewed >= self.lease_ttl:
                    return
                log.warning("lease not renewed; database unavailable", error=str(exc))


@dataclass
class _Shared:
    values: dict[tuple[str, str, str], str] = field(default_factory=dict)
    leases: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)


class MemoryStateStore(StateStore):
    """A state store in this process's memory: for tests, and for trying a source out.
    ``peer(owner)`` is a second process's view of the same state, ``scoped(interface,
    kind)`` another source's."""

    def __init__(
        self,
        interface: str = "test",
        kind: str = "test",
        *,
        owner: str | None = None,
        lease_ttl: float = DEFAULT_LEASE_S,
        clock: Clock | None = None,
        shared: _Shared | None = None,
    ) -> None:
        super().__init__(interface, kind, owner=owner, lease_ttl=lease_ttl, clock=clock)
        self._shared = shared or _Shared()

    def peer(self, owner: str, *, lease_ttl: float | None = None) -> MemoryStateStore:
        """The same source's state as another process sees it (another lease owner)."""
        return MemoryStateStore(
            self.interface,
            self.kind,
            owner=owner,
            lease_ttl=lease_ttl or self.lease_ttl,
            clock=self.clock,
            shared=self._shared,
        )

    def scoped(self, interface: str, kind: str) -> MemoryStateStore:
        """Another source's state, kept in the same memory."""
        return MemoryStateStore(
            interface,
            kind,
            owner=self.owner,
            lease_ttl=self.lease_ttl,
            clock=self.clock,
            shared=self._shared,
        )

    def _id(self, key: str) -> tuple[str, str, str]:
        return (self.interface, self.kind, check_key(key))

    async def get(self, key: str) -> Any:
        return decode(self._shared.values.get(self._id(key)))

    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        found = {key: self._shared.values.get(self._id(key)) for key in keys}
        return {key: decode(text) for key, text in found.items() if text is not None}

    async def put(self, key: str, value: Any) -> None:
        self._shared.values[self._id(key)] = encode(value)

    async def put_many(self, values: Mapping[str, Any]) -> None:
        encoded = {self._id(key): encode(value) for key, value in values.items()}
        self._shared.values.update(encoded)

    async def add(self, key: str, value: Any) -> bool:
        found = self._id(key)
        if found in self._shared.values:
            return False
        self._shared.values[found] = encode(value)
        return True

    async def delete(self, key: str) -> None:
        self._shared.values.pop(self._id(key), None)

    async def keys(self, prefix: str = "") -> list[str]:
        scope = (self.interface, self.kind)
        return sorted(
            k for i, s, k in self._shared.values if (i, s) == scope and k.startswith(prefix)
        )

    async def acquire(self) -> bool:
        scope = (self.interface, self.kind)
        held = self._shared.leases.get(scope)
        if held is not None and held[0] != self.owner and held[1] > self.clock.now():
            return False
        self._shared.leases[scope] = (self.owner, self.expiry())
        return True

    async def renew(self) -> bool:
        scope = (self.interface, self.kind)
        held = self._shared.leases.get(scope)
        if held is None or held[0] != self.owner:
            return False
        self._shared.leases[scope] = (self.owner, self.expiry())
        return True

    async def release(self) -> None:
        scope = (self.interface, self.kind)
        held = self._shared.leases.get(scope)
        if held is not None and held[0] == self.owner:
            del self._shared.leases[scope]

    async def holder(self) -> str | None:
        held = self._shared.leases.get((self.interface, self.kind))
        return held[0] if held is not None and held[1] > self.clock.now() else None
