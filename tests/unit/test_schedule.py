"""Schedules: intervals and cron read in the factory's zone; the runner runs one process's
work at a time, never overlapping, records each run, skips and counts overrun ticks, goes
on after a failing run and continues from the last recorded run after a restart."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from esb.sdk import MemoryStateStore, Run, Schedule, ScheduleText, SourceContext, StrictModel
from esb.sdk._schedule import run_on_schedule
from esb.sdk._state import _Shared

SHANGHAI_2AM = "0 2 * * *"


class Poll(StrictModel):
    interval: ScheduleText = "5s"


@pytest.mark.parametrize(
    ("text", "every"), [("5s", 5.0), ("5m", 300.0), (" 1h ", 3600.0), ("500ms", 0.5)]
)
def test_a_duration_means_every(text: str, every: float) -> None:
    schedule = Schedule.parse(text)
    assert schedule.interval_s == every
    assert schedule.cron is None
    start = datetime(2026, 12, 5, tzinfo=UTC)
    assert schedule.next_after(start) == start + timedelta(seconds=every)


def test_cron_is_read_in_the_factory_zone() -> None:
    schedule = Schedule.parse(SHANGHAI_2AM, "Asia/Shanghai")
    after = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    tick = schedule.next_after(after)
    assert tick.astimezone(UTC) == datetime(2026, 12, 5, 18, 0, tzinfo=UTC)  # 02:00 +08:00
    assert schedule.next_after(tick).astimezone(UTC) == datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
    in_utc = Schedule.parse(SHANGHAI_2AM, "UTC").next_after(after)
    assert in_utc.astimezone(UTC) == datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["", "soon", "* * * *", "61 * * * *", "0 2 * * * *", "-5s", "0s", "1ms"]
)
def test_a_bad_schedule_is_refused_in_words(text: str) -> None:
    with pytest.raises(ValueError, match=r"schedule|cron|interval|duration"):
        Schedule.parse(text)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        Schedule.parse("5m", "Mars/Base")


def test_a_config_field_checks_the_text_on_load() -> None:
    assert Poll(interval="*/5 * * * *").interval == "*/5 * * * *"
    with pytest.raises(ValidationError, match="interval"):
        Poll(interval="every tuesday")


def test_ticks_between_counts_what_an_overrun_skipped() -> None:
    start = datetime(2026, 12, 5, tzinfo=UTC)
    assert Schedule.parse("1m").ticks_between(start, start + timedelta(minutes=3, seconds=5)) == 3
    assert Schedule.parse("1m").ticks_between(start, start) == 0
    hourly = Schedule.parse("0 * * * *", "UTC")
    assert hourly.ticks_between(start, start + timedelta(hours=2)) == 2


async def _run_for(seconds: float, *runners: asyncio.Future[None]) -> None:
    await asyncio.sleep(seconds)
    for runner in runners:
        runner.cancel()
    for runner in runners:
        with contextlib.suppress(asyncio.CancelledError):
            await runner


def _context(state: MemoryStateStore, runs: list[Run]) -> SourceContext:
    async def accept(*args: object, **kwargs: object) -> None:
        raise AssertionError("not used")

    return SourceContext(
        interface="orders",
        source_system="erp",
        message_type="order",
        config_dir=Path("."),
        data_dir=Path("."),
        accept=accept,
        check_idempotency_key=lambda header: header,
        state=state,
        on_run=runs.append,
    )


async def test_runs_on_the_interval_and_records_each_run() -> None:
    state, runs = MemoryStateStore(), []
    calls: list[float] = []

    async def work() -> int:
        calls.append(asyncio.get_running_loop().time())
        return 3

    context = _context(state, runs)
    await _run_for(0.55, asyncio.ensure_future(context.every("100ms", work, name="pull")))
    assert 5 <= len(calls) <= 7, calls  # at once, then every 100 ms
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert all(0.08 <= gap <= 0.2 for gap in gaps), gaps
    record = await state.get("schedule/pull")
    assert record["runs"] == len(calls) == len(runs)
    assert record["rows"] == 3
    assert record["error"] is None
    assert record["failures"] == 0
    assert all(run.name == "pull" and run.rows == 3 for run in runs)


async def test_a_run_that_outlasts_its_interval_skips_ticks_and_never_overlaps() -> None:
    state, runs = MemoryStateStore(), []
    running = 0
    most = 0

    async def slow() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.25)
        running -= 1

    await _run_for(0.9, asyncio.ensure_future(_context(state, runs).every("100ms", slow)))
    assert most == 1
    assert 3 <= len(runs) <= 4
    assert all(run.skipped == 2 for run in runs), runs  # 250 ms run: two 100 ms ticks passed
    record = await state.get("schedule/poll")
    assert record["skipped"] == 2 * record["runs"]


async def test_a_failing_run_is_recorded_and_the_schedule_goes_on() -> None:
    state, runs = MemoryStateStore(), []
    attempts = 0

    async def flaky() -> int:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError("ERP refused the connection")
        return 1

    await _run_for(0.25, asyncio.ensure_future(_context(state, runs).every("100ms", flaky)))
    assert runs[0].error == "ConnectionError: ERP refused the connection"
    assert runs[1].error is None
    assert runs[1].rows == 1
    record = await state.get("schedule/poll")
    assert record["failures"] == 1
    assert record["error"] is None
    assert record["last_ok_at"] == runs[-1].started_at.isoformat()


async def test_two_processes_run_the_work_once_per_tick() -> None:
    shared = _Shared()
    first = MemoryStateStore(owner="gw-1", shared=shared)
    second = MemoryStateStore(owner="gw-2", shared=shared)
    calls: list[str] = []

    def worker(name: str):  # type: ignore[no-untyped-def]
        async def work() -> None:
            calls.append(name)

        return work

    one = asyncio.ensure_future(_context(first, []).every("100ms", worker("gw-1")))
    two = asyncio.ensure_future(_context(second, []).every("100ms", worker("gw-2")))
    await _run_for(0.55, one, two)
    assert len(set(calls)) == 1, calls  # the lease holder alone
    assert 5 <= len(calls) <= 7


async def test_a_restart_continues_from_the_last_recorded_run() -> None:
    state = MemoryStateStore()
    last = datetime.now(UTC) - timedelta(seconds=2)
    await state.put("schedule/poll", {"due_at": last.isoformat(), "runs": 4})
    calls = 0

    async def work() -> None:
        nonlocal calls
        calls += 1

    # every 10 s, last run 2 s ago: the next is in 8 s, not at once
    await _run_for(0.3, asyncio.ensure_future(_context(state, []).every("10s", work)))
    assert calls == 0
    # every 1 s, last run 2 s ago: one tick was missed while nobody ran: made up at once
    await _run_for(0.3, asyncio.ensure_future(_context(state, []).every("1s", work)))
    assert calls == 1
    assert (await state.get("schedule/poll"))["runs"] == 5


async def test_the_runner_gives_the_lease_back_when_cancelled() -> None:
    state = MemoryStateStore()

    async def work() -> None:
        return None

    await _run_for(
        0.1, asyncio.ensure_future(run_on_schedule(state, state.clock, Schedule.parse("1s"), work))
    )
    assert await state.holder() is None
