"""When a poll, a sync or a check runs: an interval or a cron expression, in one process.

A schedule is written as text in YAML: a duration (``30s``, ``5m``, ``1h``) means "every
that long"; five fields (``0 2 * * *``) are a cron expression, read in a time zone (the
factory's, by default), so "02:00" is 02:00 in Shanghai whatever zone the server keeps.
Cron is parsed by ``croniter``, not by hand.

``run_on_schedule`` is the runner behind ``SourceContext.every``: it holds the source's
state lease, so when several gateways share one database exactly one of them runs the
work; runs never overlap (a tick that falls while the previous run is still going is
skipped and counted); each run's start, duration, rows and error are kept in the state
under ``schedule/<name>``, so the health report shows them and a process that takes the
lease over continues from the last run instead of starting the clock again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import structlog
from croniter import croniter
from pydantic import AfterValidator, Field

from esb.config.types import known_zone, parse_duration
from esb.sdk._clock import Clock
from esb.sdk._errors import StoreUnavailable
from esb.sdk._state import StateStore
from esb.sdk._text import shorten

__all__ = [
    "DEFAULT_ZONE",
    "Job",
    "OnRun",
    "Run",
    "Schedule",
    "ScheduleText",
    "check_schedule_text",
    "run_on_schedule",
    "schedule_key",
]

log = structlog.get_logger(__name__)
#: The factory's zone when nothing else is said (the demo factory is in Suzhou).
DEFAULT_ZONE = "Asia/Shanghai"
#: Shortest interval: a poll more often than this is a mistake, not a schedule.
MIN_INTERVAL_S = 0.05
_CRON_FIELDS = 5

#: ``async def work() -> int | None``: one run; the rows or documents it handled.
Job = Callable[[], Awaitable["int | None"]]


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(known_zone(name))


def _duration(text: str) -> float | None:
    try:
        return parse_duration(text.strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class Schedule:
    """Every ``interval_s`` seconds, or on the ticks of ``cron`` read in ``zone``."""

    text: str
    zone: ZoneInfo
    interval_s: float | None = None
    cron: str | None = None

    @classmethod
    def parse(cls, text: str, zone: str = DEFAULT_ZONE) -> Schedule:
        """``30s``/``5m``/``1h`` (every), or a five-field cron expression; ValueError says why."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("a schedule is a duration such as 5m or a cron such as '0 2 * * *'")
        where = _zone(zone)
        every = _duration(text)
        if every is not None:
            if every < MIN_INTERVAL_S:
                raise ValueError(f"an interval of at least {MIN_INTERVAL_S * 1000:g}ms: {text!r}")
            return cls(text=text.strip(), zone=where, interval_s=every)
        fields = text.split()
        if len(fields) != _CRON_FIELDS or not croniter.is_valid(text):
            raise ValueError(
                f"not a schedule: {text!r} (a duration such as 5m, or five cron fields: "
                "minute hour day-of-month month day-of-week, e.g. '0 2 * * *')"
            )
        return cls(text=" ".join(fields), zone=where, cron=" ".join(fields))

    def next_after(self, moment: datetime) -> datetime:
        """The first tick strictly after ``moment`` (an aware datetime), as aware UTC-comparable."""
        if self.interval_s is not None:
            return moment + timedelta(seconds=self.interval_s)
        local = moment.astimezone(self.zone)
        found: datetime = croniter(self.cron or "", local).get_next(datetime)
        return found

    def ticks_between(self, after: datetime, until: datetime, limit: int = 100_000) -> int:
        """How many ticks fall in ``(after, until]``: the runs a long run made us skip."""
        if until <= after:
            return 0
        if self.interval_s is not None:
            return min(int((until - after).total_seconds() // self.interval_s), limit)
        count, tick = 0, self.next_after(after)
        while tick <= until and count < limit:
            count += 1
            tick = self.next_after(tick)
        return count


def check_schedule_text(text: str) -> str:
    """A config field's check: the text parses (zones are checked where they are given)."""
    Schedule.parse(text)
    return text.strip()


#: A config field holding a schedule: ``5s``, ``5m``, or cron ``0 2 * * *``.
ScheduleText = Annotated[
    str,
    AfterValidator(check_schedule_text),
    Field(
        description="how often: a duration (30s, 5m, 1h) or a cron expression "
        "(minute hour day month weekday, e.g. '0 2 * * *'), read in the factory's time zone",
        examples=["5s", "5m", "0 2 * * *"],
    ),
]


@dataclass(frozen=True)
class Run:
    """What one run did, as the health report and ``/metrics`` show it."""

    name: str
    started_at: datetime
    duration_s: float
    rows: int | None
    error: str | None
    skipped: int  # ticks skipped because this run was still going


#: Told of every run (the gateway counts them in ``/metrics``).
OnRun = Callable[[Run], None]


def schedule_key(name: str) -> str:
    return f"schedule/{name}"


async def run_on_schedule(
    state: StateStore,
    clock: Clock,
    schedule: Schedule,
    work: Job,
    *,
    name: str = "poll",
    on_run: OnRun | None = None,
    log_to: Any = None,
) -> None:
    """Run ``work`` on ``schedule`` until cancelled, in the process holding ``state``'s lease."""
    logger = log_to if log_to is not None else log

    async def loop() -> None:
        record: dict[str, Any] = await _load(state, name, logger)
        due = _first_due(schedule, record, clock.now())
        while True:
            wait = (due - clock.now()).total_seconds()
            if wait > 0:
                await asyncio.sleep(wait)
            run = await _run_once(clock, schedule, work, name, due, logger)
            record = _recorded(record, run, due)
            await _save(state, name, record, logger)
            if on_run is not None:
                on_run(run)
            due = _next_due(schedule, due, clock.now())

    await state.run_exclusive(loop)


def _first_due(schedule: Schedule, record: dict[str, Any], now: datetime) -> datetime:
    """Continue from the last run kept in the state (another process's, or before a restart);
    a tick missed while no process ran is made up once, at once."""
    last = record.get("due_at")
    if not isinstance(last, str):
        return now if schedule.interval_s is not None else schedule.next_after(now)
    try:
        return schedule.next_after(datetime.fromisoformat(last))  # in the past: at once
    except ValueError:
        return now


def _next_due(schedule: Schedule, due: datetime, now: datetime) -> datetime:
    nxt = schedule.next_after(due)
    if nxt > now:
        return nxt
    # the run outlasted one or more ticks: they were skipped (counted), the next is ahead
    skipped = schedule.ticks_between(due, now)
    if schedule.interval_s is not None:
        return due + timedelta(seconds=schedule.interval_s * (skipped + 1))
    return schedule.next_after(now)


async def _run_once(
    clock: Clock, schedule: Schedule, work: Job, name: str, due: datetime, logger: Any
) -> Run:
    started, begun = clock.now(), clock.monotonic()
    rows: int | None = None
    error: str | None = None
    try:
        rows = await work()
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a run's failure is recorded and reported; the schedule goes on
        error = shorten(f"{type(exc).__name__}: {exc}")
        logger.warning("scheduled run failed", job=name, error=error)
    duration = clock.monotonic() - begun
    skipped = schedule.ticks_between(due, clock.now())  # (due, now]: its own tick is not in it
    if skipped:
        logger.info("scheduled run outlasted its interval; ticks skipped", job=name, n=skipped)
    return Run(name, started, duration, rows, error, skipped)


def _recorded(record: dict[str, Any], run: Run, due: datetime) -> dict[str, Any]:
    failed = run.error is not None
    return {
        "due_at": due.isoformat(),
        "started_at": run.started_at.isoformat(),
        "duration_s": round(run.duration_s, 6),
        "rows": run.rows,
        "error": run.error,
        "last_ok_at": record.get("last_ok_at") if failed else run.started_at.isoformat(),
        "runs": int(record.get("runs", 0)) + 1,
        "failures": int(record.get("failures", 0)) + (1 if failed else 0),
        "skipped": int(record.get("skipped", 0)) + run.skipped,
    }


async def _load(state: StateStore, name: str, logger: Any) -> dict[str, Any]:
    try:
        found = await state.get(schedule_key(name))
    except StoreUnavailable as exc:
        logger.warning("last run not read; starting afresh", job=name, error=str(exc))
        return {}
    return found if isinstance(found, dict) else {}


async def _save(state: StateStore, name: str, record: dict[str, Any], logger: Any) -> None:
    try:
        await state.put(schedule_key(name), record)
    except StoreUnavailable as exc:  # the run happened; only its record is late
        logger.warning("run not recorded; database unavailable", job=name, error=str(exc))
