"""The ledger of dropped files on the real databases (SQLite and PostgreSQL): each content
once, failed files read again, abandoned ones resumed, one holder of a lease at a time,
and a lease that dies with the gateway that held it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.settings import Settings
from esb.store.engine import create_engine
from esb_file.ledger import Ledger
from esb_file.names import readable
from esb_file.report import FileReport

SHA = "ab" * 32


def report(**counts: int) -> FileReport:
    made = FileReport(file="day.csv", sha256=SHA)
    for name, value in counts.items():
        setattr(made, name, value)
    return made


async def test_a_content_is_claimed_once_then_known_as_done(engine: AsyncEngine) -> None:
    ledger = Ledger(engine, "shipment")
    first = await ledger.claim("day.csv", SHA, 10)
    assert (first.state, first.name, first.checkpoint) == ("new", "day.csv", None)
    await ledger.finish(first, report(accepted=2, refused=1), "done")

    again = await ledger.claim("copy.csv", SHA, 10)
    assert (again.id, again.state, again.name) == (first.id, "done", "day.csv")
    assert FileReport.from_json(again.checkpoint, file="x", sha256=SHA, limit=10).refused == 1
    other = await Ledger(engine, "another-interface").claim("day.csv", SHA, 10)
    assert other.state == "new"  # the same content is new to another interface


async def test_a_failed_file_is_read_again_and_an_abandoned_one_resumed(
    engine: AsyncEngine,
) -> None:
    ledger = Ledger(engine, "shipment")
    failed = await ledger.claim("day.csv", SHA, 10)
    await ledger.finish(failed, report(), "failed")
    retried = await ledger.claim("day-fixed-config.csv", SHA, 10)
    assert (retried.id, retried.state, retried.checkpoint) == (failed.id, "new", None)

    await ledger.checkpoint(retried, report(accepted=500, last_row=501))
    resumed = await ledger.claim("day-fixed-config.csv", SHA, 10)
    assert resumed.state == "resume"
    checkpoint = FileReport.from_json(resumed.checkpoint, file="x", sha256=SHA, limit=10)
    assert (checkpoint.accepted, checkpoint.last_row) == (500, 501)


async def test_one_lease_holder_at_a_time(engine: AsyncEngine) -> None:
    ledger = Ledger(engine, "shipment")
    async with ledger.lease(SHA) as held:
        assert held
        async with ledger.lease(SHA) as again:
            assert not again
        async with ledger.lease("cd" * 32) as other:
            assert other  # another file is free
    async with ledger.lease(SHA) as after:
        assert after


@pytest.mark.parametrize("mode", ["production"], indirect=True)
async def test_a_lease_dies_with_the_session_that_held_it(
    engine: AsyncEngine, mode_settings: dict[str, Any], tmp_path: Path
) -> None:
    """Two gateways (two engines): the second takes over once the first one's session ends."""
    second = create_engine(Settings(config=tmp_path, **mode_settings))
    try:
        first_gateway, second_gateway = Ledger(engine, "shipment"), Ledger(second, "shipment")
        async with first_gateway.lease(SHA) as held:
            assert held
            async with second_gateway.lease(SHA) as taken:
                assert not taken
            await _terminate_other_sessions(second)  # as if the first gateway was killed
            assert await _taken_within(second_gateway, seconds=5)
    finally:
        await second.dispose()


async def _taken_within(ledger: Ledger, seconds: float) -> bool:
    """The server ends a terminated session a moment later; its locks go with it."""
    for _ in range(int(seconds * 20)):
        async with ledger.lease(SHA) as taken:
            if taken:
                return True
        await asyncio.sleep(0.05)
    return False


async def _terminate_other_sessions(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_database d "
                "ON d.oid = l.database WHERE d.datname = current_database() "
                "AND l.locktype = 'advisory' AND l.pid <> pg_backend_pid()"
            )
        )


async def test_a_changed_content_is_continued_once_by_the_longest_match(
    engine: AsyncEngine,
) -> None:
    ledger = Ledger(engine, "shipment")
    short, longer, other = ("11" * 32, 10, 3), ("22" * 32, 20, 5), ("33" * 32, 30, 7)
    for sha, size, last_row in (short, longer, other):
        claim = await ledger.claim("day.csv" if sha != other[0] else "other.csv", sha, size)
        changed = report(last_row=last_row, accepted=last_row - 1)
        changed.changed, changed.changed_to = "appended", {"continuable": True}
        await ledger.finish(claim, changed, "done")
    plain = await ledger.claim("day.csv", "44" * 32, 40)
    archived = report()
    archived.moved_to = "archive/day.csv"
    await ledger.finish(plain, archived, "done")  # read and put away: never continued
    stopped = await ledger.claim("day.csv", "66" * 32, 5)
    await ledger.finish(stopped, report(last_row=2), "done")  # killed before the move

    earlier = await ledger.changed_earlier("day.csv")
    assert [(e.sha256, e.size, e.last_row) for e in earlier] == [longer, short, ("66" * 32, 5, 2)]

    follow = await ledger.claim("day.csv", "55" * 32, 50)
    going_on = report(last_row=5, accepted=0)
    going_on.sha256, going_on.continues = "55" * 32, {"sha256": longer[0], "last_row": 5}
    await ledger.continue_from(follow, going_on, earlier[0])
    assert [e.sha256 for e in await ledger.changed_earlier("day.csv")] == [short[0], "66" * 32]
    resumed = await ledger.claim("day.csv", "55" * 32, 50)  # killed before its first checkpoint
    checkpoint = FileReport.from_json(resumed.checkpoint, file="x", sha256=SHA, limit=10)
    assert (resumed.state, checkpoint.last_row, checkpoint.continues) == (
        "resume",
        5,
        {"sha256": longer[0], "last_row": 5},
    )
    done = await ledger.claim("day.csv", longer[0], 20)
    previous = FileReport.from_json(done.checkpoint, file="x", sha256=SHA, limit=10)
    assert (previous.continued_by, previous.accepted) == ("55" * 32, 4)


async def test_any_file_name_can_be_stored_once_shown(engine: AsyncEngine) -> None:
    """PostgreSQL holds no lone surrogate (a GBK name as Python lists it) and 500 characters."""
    ledger = Ledger(engine, "shipment")
    for n, raw in enumerate(("发货单.csv".encode("gbk"), b"\xff" * 251 + b".csv")):
        claim = await ledger.claim(readable(os.fsdecode(raw)), f"{n}" * 64, 1)
        await ledger.finish(claim, report(accepted=1), "done")
    again = await ledger.claim("copy.csv", "0" * 64, 1)
    assert (again.state, again.name) == ("done", "发货单.csv")
