"""Master data (cross-reference) as the API reads and changes it: the store's xref
queries bound to the engine, and every change made visible to this process's cache at
once (other processes follow within their refresh interval)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.masterdata import DomainCheck
from esb.store import xref as store
from esb.store.xref_import import ImportResult
from esb.xref import XrefCache, import_file
from esb.xref_check import check_domain, last_check
from esb.xref_csv import Entity


class MasterData:
    def __init__(self, engine: AsyncEngine, cache: XrefCache) -> None:
        self._engine = engine
        self.cache = cache  # the mapping preview looks codes up where workers do

    async def domains(self) -> list[dict[str, Any]]:
        return await store.domains(self._engine)

    async def version(self, domain: str) -> int:
        return await store.version(self._engine, domain)

    async def systems(self, domain: str) -> list[str]:
        return await store.systems(self._engine, domain)

    def pages(self, domain: str) -> AsyncIterator[list[Entity]]:
        return store.pages(self._engine, domain)

    async def find(self, domain: str, system: str, code: str) -> Entity | None:
        return await store.find(self._engine, domain, system, code)

    async def put(
        self, domain: str, system: str, code: str, codes: dict[str, str], *, actor: str, reason: str
    ) -> Entity:
        entity = await store.put_entity(
            self._engine, domain, system, code, codes, actor=actor, reason=reason
        )
        await self.cache.refresh()
        return entity

    async def delete(self, domain: str, system: str, code: str, *, actor: str) -> Entity | None:
        gone = await store.delete_entity(self._engine, domain, system, code, actor=actor)
        if gone is not None:
            await self.cache.refresh()
        return gone

    async def import_csv(
        self, domain: str, body: IO[bytes], *, actor: str, reason: str
    ) -> ImportResult | None:
        """A CSV body spooled to a file; the API's loop keeps serving meanwhile."""
        result = await import_file(
            self._engine,
            domain,
            body,
            source=f"{domain}.csv",
            actor=actor,
            reason=reason,
            shared_loop=True,
        )
        await self.cache.refresh()
        return result

    async def check(self, domain: str, check: DomainCheck, zone: str) -> dict[str, Any]:
        """Each configured system's list against the cross-reference (kept as the last)."""
        return await check_domain(self._engine, domain, check, zone)

    async def last_check(self, domain: str) -> dict[str, Any] | None:
        return await last_check(self._engine, domain)
