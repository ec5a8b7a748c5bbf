"""The gateway as a source sees it in the contract suite: an ``accept`` that answers as told.

A source hands every document to ``context.accept``; here that takes it in, refuses it
(``ValidationFailed``), finds the store down (``StoreUnavailable``) or hangs, so the
suite can see what the source tells its callers in each case.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from uuid import UUID, uuid4

import orjson

from esb.ingress import check_idempotency_key
from esb.sdk import (
    FieldProblem,
    MemoryStateStore,
    MessageOutcome,
    SourceContext,
    StoreUnavailable,
    ValidationFailed,
    json_default,
)

__all__ = ["Offered", "StandInGateway", "Taken"]

Mode = Literal["accept", "refuse", "unavailable", "hang"]


def content_key(body: Any) -> str:
    """What the gateway keys a document by when its source gives no key."""
    canonical = orjson.dumps(body, default=json_default, option=orjson.OPT_SORT_KEYS)
    return "body:" + hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True)
class Taken:
    """``accept``'s answer (an :class:`esb.sdk.Accepted`): ``created`` False for a repeat."""

    message_id: UUID
    created: bool


@dataclass(frozen=True)
class Offered:
    """One call of ``accept``: what came in and what the stand-in answered. The key is
    the one the gateway would use: the source's, else the canonical body's digest."""

    body: Any
    idempotency_key: str
    answer: str


@dataclass
class StandInGateway:
    """``accept`` answers as ``mode`` says; every call is kept in ``offered``."""

    mode: Mode = "accept"
    offered: list[Offered] = field(default_factory=list)
    _ids: dict[str, UUID] = field(default_factory=dict)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    keys: dict[str, str] = field(default_factory=dict)
    """Callers' keys -> their system, for ``context.authenticate``."""
    state: MemoryStateStore = field(default_factory=MemoryStateStore)
    fates: dict[str, MessageOutcome] = field(default_factory=dict)
    """What ``outcomes`` tells of a key; an accepted key not named here is delivered."""

    async def accept(
        self, body: Any, text: str | None = None, idempotency_key: str | None = None
    ) -> Taken:
        answer = "hung" if self.mode == "hang" else self.mode
        key = idempotency_key or content_key(body)
        self.offered.append(Offered(body, key, answer))
        self._arrived.set()
        if self.mode == "refuse":
            raise ValidationFailed([FieldProblem("orderNo", "refused by the contract suite")])
        if self.mode == "hang":
            await self._released.wait()
        if self.mode in ("unavailable", "hang"):
            raise StoreUnavailable("the contract suite's store is down")
        created = key not in self._ids
        message_id = self._ids.setdefault(key, uuid4())
        return Taken(message_id, created)

    async def wait_offered(self, count: int, timeout: float) -> None:
        """Until ``accept`` has been called ``count`` times (TimeoutError after ``timeout``)."""
        async with asyncio.timeout(timeout):
            while len(self.offered) < count:
                self._arrived.clear()
                await self._arrived.wait()

    def release(self) -> None:
        """Let every hanging ``accept`` go (as unavailable): servers can then stop."""
        self.mode = "unavailable"
        self._released.set()

    def accepted(self) -> list[Offered]:
        return [o for o in self.offered if o.answer == "accept"]

    def authenticate(self, key: str) -> str | None:
        return self.keys.get(key)

    async def outcomes(self, keys: Sequence[str]) -> dict[str, MessageOutcome]:
        """``context.outcomes``: the fate set in ``fates``, else delivered for every key
        taken in (the stand-in delivers at once); unknown keys are left out."""
        return {
            key: self.fates.get(key, MessageOutcome("delivered"))
            for key in keys
            if key in self._ids or key in self.fates
        }

    def context(
        self, interface: str, source_system: str, message_type: str, config_dir: Path
    ) -> SourceContext:
        return SourceContext(
            interface=interface,
            source_system=source_system,
            message_type=message_type,
            config_dir=config_dir,
            data_dir=config_dir / "data",
            accept=self.accept,
            check_idempotency_key=check_idempotency_key,
            authenticate=self.authenticate,
            state=self.state,
            outcomes=self.outcomes,
        )
