"""Scheduled work of the gateway itself, and what every schedule last did.

Sources schedule their polls with ``SourceContext.every``; the gateway's own periodic
jobs (a master-data sync check, say) use ``run_job`` here, with the same guarantees:
one process at a time across all gateways sharing the database (a lease of the job's
own state, scope ``_jobs``), runs never overlapping, each run recorded. ``schedules``
reads every recorded run back for the health report.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.sdk._clock import Clock, SystemClock
from esb.sdk._schedule import Job, OnRun, Schedule, run_on_schedule
from esb.sdk._state import DEFAULT_LEASE_S, decode
from esb.store.engine import transaction
from esb.store.source_state import SourceStateStore
from esb.store.tables import source_state

__all__ = ["JOBS_SCOPE", "run_job", "schedules"]

#: The state scope (``interface`` column) of the gateway's own jobs.
JOBS_SCOPE = "_jobs"
_PREFIX = "schedule/"


async def run_job(
    engine: AsyncEngine,
    name: str,
    schedule: Schedule,
    work: Job,
    *,
    owner: str | None = None,
    on_run: OnRun | None = None,
    lease_ttl: float = DEFAULT_LEASE_S,
    clock: Clock | None = None,
) -> None:
    """Run ``work`` on ``schedule`` until cancelled, in one gateway process at a time."""
    state = SourceStateStore(
        engine, JOBS_SCOPE, name, owner=owner, lease_ttl=lease_ttl, clock=clock or SystemClock()
    )
    await run_on_schedule(state, state.clock, schedule, work, name=name, on_run=on_run)


async def schedules(engine: AsyncEngine) -> list[dict[str, Any]]:
    """Every schedule's last run, as recorded by whichever process ran it: job name,
    interface and source (None for the gateway's own jobs), start, duration, rows, error,
    and the counts of runs, failures and skipped ticks."""
    s = source_state.c
    query = (
        select(s.interface, s.kind, s.key, s.value)
        .where(s.key.startswith(_PREFIX, autoescape=True))
        .order_by(s.interface, s.kind, s.key)
    )
    async with transaction(engine) as conn:
        rows = (await conn.execute(query)).all()
    found = []
    for interface, kind, key, value in rows:
        record = decode(value)
        if not isinstance(record, dict):
            continue
        name = key.removeprefix(_PREFIX)
        own = interface == JOBS_SCOPE
        found.append(
            {
                "job": name if own else f"{interface}/{kind}/{name}",
                "interface": None if own else interface,
                "source": None if own else kind,
                **{k: record.get(k) for k in _SHOWN},
            }
        )
    return found


_SHOWN = (
    "started_at",
    "duration_s",
    "rows",
    "error",
    "last_ok_at",
    "runs",
    "failures",
    "skipped",
)
