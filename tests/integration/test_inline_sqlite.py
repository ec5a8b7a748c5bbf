"""Embedded mode: SQLite's writer runs in place on the event loop, except what may wait.

A ``BEGIN IMMEDIATE`` that waits for another process's write lock, and a commit's fsync,
must not stall the loop (the API, the workers, the health checks share it)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import func, select, text

from esb.settings import Settings
from esb.store.accept import accept_messages
from esb.store.engine import create_engine, create_read_engine, transaction
from esb.store.migrate import ensure_schema
from esb.store.tables import messages
from tests.support.store import sales_order

HELD_S = 0.6


def hold_write_lock(path: Path, locked: threading.Event) -> None:
    """Another process's transaction (the CLI, say): it holds the write lock a while."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(HELD_S)
        conn.execute("COMMIT")
    finally:
        conn.close()


async def test_a_wait_for_the_write_lock_leaves_the_event_loop_running(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    writer = create_engine(settings)
    try:
        await ensure_schema(writer, settings.effective_database_url, auto=True)
        locked = threading.Event()
        holder = threading.Thread(
            target=hold_write_lock, args=(settings.data_dir / "esb.db", locked)
        )
        holder.start()
        await asyncio.to_thread(locked.wait, 5)

        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        accepted = await accept_messages(writer, [sales_order(1)])  # waits for the lock
        waited = time.monotonic() - started
        ticker.cancel()
        await asyncio.to_thread(holder.join)

        assert accepted[0].created
        assert waited >= HELD_S / 2  # it did wait for the other transaction
        # the loop ran meanwhile: a stalled loop would have ticked at most once or twice
        assert ticks >= waited / 0.01 / 4
    finally:
        await writer.dispose()


async def test_in_place_writes_commit_and_roll_back_like_any_connection(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    writer = create_engine(settings)
    reader = create_read_engine(settings, writer, connections=1, in_place=True)
    try:
        await ensure_schema(writer, settings.effective_database_url, auto=True)
        await accept_messages(writer, [sales_order(n) for n in range(3)])
        try:
            async with transaction(writer) as conn:
                await conn.execute(text("DELETE FROM outbox"))
                raise RuntimeError("abandon")
        except RuntimeError:
            pass

        # committed rows are on disk for a new connection; the abandoned delete is not
        plain = sqlite3.connect(settings.data_dir / "esb.db")
        try:
            assert plain.execute("SELECT count(*) FROM outbox").fetchone() == (3,)
        finally:
            plain.close()
        async with transaction(reader) as conn:
            assert await conn.scalar(select(func.count()).select_from(messages)) == 3
        # a page of rows larger than runs in place goes through the thread, all of it
        await accept_messages(writer, [sales_order(n) for n in range(100, 300)])
        async with transaction(reader) as conn:
            assert await conn.scalar(select(func.count()).select_from(messages)) == 203
    finally:
        await reader.dispose()
        await writer.dispose()
