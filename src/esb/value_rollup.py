"""The value report's daily rollup, kept up to date by a job (one process of all).

Every minute the job adds what was delivered up to five minutes ago to the daily rows
(``esb.store.value_days``); the report counts the rest from the deliveries themselves. The
margin leaves room for an outcome whose commit was slow or whose process's clock is a
little behind: it still lands after the mark, never in a day already rolled up.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from esb.scheduling import run_job
from esb.sdk import Schedule
from esb.sdk._schedule import OnRun
from esb.store.engine import utcnow
from esb.store.value_days import roll_up

#: The job's name in the health report's schedules and in /metrics.
JOB = "value-rollup"
EVERY = "1m"
#: What landed within this many seconds is left to the report's live count.
MARGIN_S = 300.0


async def roll_up_forever(engine: AsyncEngine, time_zone: str, on_run: OnRun) -> None:
    """Run the rollup every minute until cancelled, in the process holding its lease."""
    zone = ZoneInfo(time_zone)

    async def work() -> int:
        return await roll_up(engine, zone, utcnow() - timedelta(seconds=MARGIN_S))

    await run_job(engine, JOB, Schedule.parse(EVERY, time_zone), work, on_run=on_run)
