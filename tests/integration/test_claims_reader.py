"""Embedded mode: the check before a call reads beside SQLite's one writer, not through it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import OperationalError

from esb.settings import Settings
from esb.status import DeliveryStatus
from esb.store.accept import accept_messages
from esb.store.claims import Claim, ClaimState, check_claims
from esb.store.engine import create_engine, create_read_engine
from esb.store.migrate import ensure_schema
from esb.store.tables import deliveries
from tests.support.store import sales_order


async def test_a_pending_check_reads_while_the_writer_is_busy_and_a_discard_still_wins(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    writer = create_engine(settings)
    reader = create_read_engine(settings, writer)
    assert reader is not writer
    try:
        await ensure_schema(writer, settings.effective_database_url, auto=True)
        accepted = await accept_messages(writer, [sales_order(1), sales_order(2)])
        first, second = (a.deliveries[0].id for a in accepted)

        # the writer's one connection is held by a long transaction: the check still answers
        async with writer.begin() as busy:
            await busy.execute(text("SELECT 1"))
            states = await asyncio.wait_for(
                check_claims(writer, [Claim(first), Claim(second)], reader), timeout=5
            )
        assert states == [ClaimState(True, 0), ClaimState(True, 0)]

        # an operator's discard meanwhile: the check says no (through the writer)
        async with writer.begin() as conn:
            await conn.execute(
                update(deliveries)
                .where(deliveries.c.id == second)
                .values(status=DeliveryStatus.DISCARDED)
            )
        states = await check_claims(writer, [Claim(first), Claim(second)], reader)
        assert states == [ClaimState(True, 0), ClaimState(False, 0)]

        # a redelivery is counted, which needs the writer
        states = await check_claims(writer, [Claim(first, redelivered=True)], reader)
        assert states == [ClaimState(True, 1)]
    finally:
        await reader.dispose()
        await writer.dispose()


async def test_the_reader_cannot_write(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    writer = create_engine(settings)
    reader = create_read_engine(settings, writer)
    try:
        await ensure_schema(writer, settings.effective_database_url, auto=True)
        async with reader.connect() as conn:
            with pytest.raises(OperationalError, match="readonly"):
                await conn.execute(text("DELETE FROM deliveries"))
    finally:
        await reader.dispose()
        await writer.dispose()
