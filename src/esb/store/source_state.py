"""The inbound sources' durable state and leases, in the gateway's database.

The SDK's ``StateStore`` (:mod:`esb.sdk._state`) over two tables: ``source_state``
(interface, kind, key -> JSON text) and ``source_leases`` (one row per source that
some process runs: who, and until when). Taking a lease is a compare-and-set on that
row, so of several processes on one PostgreSQL (or on one SQLite file) exactly one
wins; the others wait until it is released or expires. A holder on this host whose
process is gone (killed) is replaced at once instead of after its lease runs out.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Insert, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.sdk._clock import Clock
from esb.sdk._state import DEFAULT_LEASE_S, StateStore, check_key, decode, encode
from esb.store.engine import transaction
from esb.store.tables import source_leases, source_state

__all__ = ["SourceStateStore", "gone_here"]


def gone_here(owner: str) -> bool:
    """True if ``owner`` (``host:pid:nonce``) was a process of this host that has ended."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists but is not ours to signal
        return False
    return False


def _insert(conn: AsyncConnection, table: Any, index: list[str]) -> Insert:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement: Insert = dialect.insert(table).on_conflict_do_nothing(index_elements=index)
    return statement


def _upsert(conn: AsyncConnection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(source_state)
    return statement.on_conflict_do_update(
        index_elements=["interface", "kind", "key"],
        set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
    )


class SourceStateStore(StateStore):
    """One source's state and lease in the database (see the module's docstring)."""

    def __init__(
        self,
        engine: AsyncEngine,
        interface: str,
        kind: str,
        *,
        owner: str | None = None,
        lease_ttl: float = DEFAULT_LEASE_S,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(interface, kind, owner=owner, lease_ttl=lease_ttl, clock=clock)
        self.engine = engine

    def _scope(self, table: Any) -> Any:
        return (table.c.interface == self.interface) & (table.c.kind == self.kind)

    def _row(self, key: str, value: Any) -> dict[str, Any]:
        return {
            "interface": self.interface,
            "kind": self.kind,
            "key": check_key(key),
            "value": encode(value),
            "updated_at": self.clock.now(),
        }

    async def get(self, key: str) -> Any:
        query = select(source_state.c.value).where(
            self._scope(source_state), source_state.c.key == check_key(key)
        )
        async with transaction(self.engine) as conn:
            return decode(await conn.scalar(query))

    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        wanted = [check_key(key) for key in keys]
        if not wanted:
            return {}
        query = select(source_state.c.key, source_state.c.value).where(
            self._scope(source_state), source_state.c.key.in_(wanted)
        )
        async with transaction(self.engine) as conn:
            rows = (await conn.execute(query)).all()
        return {row.key: decode(row.value) for row in rows}

    async def put(self, key: str, value: Any) -> None:
        await self.put_many({key: value})

    async def put_many(self, values: Mapping[str, Any]) -> None:
        rows = [self._row(key, value) for key, value in values.items()]
        if not rows:
            return
        async with transaction(self.engine) as conn:
            await conn.execute(_upsert(conn), rows)

    async def add(self, key: str, value: Any) -> bool:
        row = self._row(key, value)
        async with transaction(self.engine) as conn:
            index = ["interface", "kind", "key"]
            result = await conn.execute(_insert(conn, source_state, index).values(**row))
            return bool(result.rowcount == 1)

    async def delete(self, key: str) -> None:
        statement = delete(source_state).where(
            self._scope(source_state), source_state.c.key == check_key(key)
        )
        async with transaction(self.engine) as conn:
            await conn.execute(statement)

    async def keys(self, prefix: str = "") -> list[str]:
        starts = source_state.c.key.startswith(prefix, autoescape=True)
        query = (
            select(source_state.c.key)
            .where(self._scope(source_state), starts)
            .order_by(source_state.c.key)
        )
        async with transaction(self.engine) as conn:
            return list((await conn.scalars(query)).all())

    async def acquire(self) -> bool:
        now, values = self.clock.now(), {"owner": self.owner, "expires_at": self.expiry()}
        async with transaction(self.engine) as conn:
            held = (
                await conn.execute(
                    select(source_leases.c.owner, source_leases.c.expires_at).where(
                        self._scope(source_leases)
                    )
                )
            ).one_or_none()
            if held is None:
                scope = {"interface": self.interface, "kind": self.kind, "acquired_at": now}
                insert = _insert(conn, source_leases, ["interface", "kind"])
                result = await conn.execute(insert.values(**scope, **values))
                return bool(result.rowcount == 1)
            mine = held.owner == self.owner
            if not (mine or held.expires_at <= now or gone_here(held.owner)):
                return False
            changes = values if mine else {**values, "acquired_at": now}
            result = await conn.execute(  # only if nobody changed it meanwhile
                update(source_leases)
                .where(
                    self._scope(source_leases),
                    source_leases.c.owner == held.owner,
                    source_leases.c.expires_at == held.expires_at,
                )
                .values(**changes)
            )
            return bool(result.rowcount == 1)

    async def renew(self) -> bool:
        statement = (
            update(source_leases)
            .where(self._scope(source_leases), source_leases.c.owner == self.owner)
            .values(expires_at=self.expiry())
        )
        async with transaction(self.engine) as conn:
            return bool((await conn.execute(statement)).rowcount == 1)

    async def release(self) -> None:
        statement = delete(source_leases).where(
            self._scope(source_leases), source_leases.c.owner == self.owner
        )
        async with transaction(self.engine) as conn:
            await conn.execute(statement)

    async def holder(self) -> str | None:
        query = select(source_leases.c.owner, source_leases.c.expires_at).where(
            self._scope(source_leases)
        )
        async with transaction(self.engine) as conn:
            held = (await conn.execute(query)).one_or_none()
        return held.owner if held is not None and held.expires_at > self.clock.now() else None
