"""The ledger of dropped files, kept in the source's state: on the real databases (SQLite
and PostgreSQL) and in memory (the SDK's stand-in). Each content once, failed files
read again, abandoned ones resumed, changed ones continued once."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.sdk import MemoryStateStore, StateStore
from esb_file.ledger import Ledger
from esb_file.names import readable
from esb_file.report import FileReport
from esb_file.tests.states import database_state

SHA = "ab" * 32


States = Callable[[str], StateStore]


@pytest.fixture(params=["embedded", "production", "memory"])
def mode(request: pytest.FixtureRequest) -> str:
    """The gateway's two modes (SQLite, PostgreSQL), and the SDK's state in memory."""
    return str(request.param)


@pytest.fixture
def states(mode: str, engine: AsyncEngine) -> States:
    """The state of an interface's ``file-drop`` source."""
    if mode == "memory":
        memory = MemoryStateStore("shipment", "file-drop")
        return lambda interface: memory.scoped(interface, "file-drop")
    return lambda interface: database_state(engine, interface)


def report(**counts: int) -> FileReport:
    made = FileReport(file="day.csv", sha256=SHA)
    for name, value in counts.items():
        setattr(made, name, value)
    return made


async def test_a_content_is_claimed_once_then_known_as_done(states: States) -> None:
    ledger = Ledger(states("shipment"))
    first = await ledger.claim("day.csv", SHA, 10)
    assert (first.state, first.name, first.checkpoint) == ("new", "day.csv", None)
    await ledger.finish(first, report(accepted=2, refused=1), "done")

    again = await ledger.claim("copy.csv", SHA, 10)
    assert (again.id, again.state, again.name) == (first.id, "done", "day.csv")
    assert FileReport.from_json(again.checkpoint, file="x", sha256=SHA, limit=10).refused == 1
    other = await Ledger(states("another-interface")).claim("day.csv", SHA, 10)
    assert other.state == "new"  # the same content is new to another interface


async def test_a_failed_file_is_read_again_and_an_abandoned_one_resumed(
    states: States,
) -> None:
    ledger = Ledger(states("shipment"))
    failed = await ledger.claim("day.csv", SHA, 10)
    await ledger.finish(failed, report(), "failed")
    retried = await ledger.claim("day-fixed-config.csv", SHA, 10)
    assert (retried.id, retried.state, retried.checkpoint) == (failed.id, "new", None)

    await ledger.checkpoint(retried, report(accepted=500, last_row=501))
    resumed = await ledger.claim("day-fixed-config.csv", SHA, 10)
    assert resumed.state == "resume"
    checkpoint = FileReport.from_json(resumed.checkpoint, file="x", sha256=SHA, limit=10)
    assert (checkpoint.accepted, checkpoint.last_row) == (500, 501)


async def test_a_changed_content_is_continued_once_by_the_longest_match(
    states: States,
) -> None:
    ledger = Ledger(states("shipment"))
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


async def test_any_file_name_can_be_stored_once_shown(states: States) -> None:
    """PostgreSQL holds no lone surrogate (a GBK name as Python lists it); a 500-character
    name is kept whole (its key is its hash)."""
    ledger = Ledger(states("shipment"))
    for n, raw in enumerate(("发货单.csv".encode("gbk"), b"\xff" * 251 + b".csv")):
        claim = await ledger.claim(readable(os.fsdecode(raw)), f"{n}" * 64, 1)
        await ledger.finish(claim, report(accepted=1), "done")
    again = await ledger.claim("copy.csv", "0" * 64, 1)
    assert (again.state, again.name) == ("done", "发货单.csv")
