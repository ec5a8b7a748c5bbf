"""The gateway's own scheduled jobs on the real databases (SQLite and PostgreSQL): two
"processes" (two engines on one database) run a job once per tick between them, never at
once; each run lands in the health report's ``schedules`` and in ``/metrics``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.gateway import GatewayConfig
from esb.config.loader import load_config
from esb.connectors import load_registry
from esb.metrics import Metrics
from esb.report import build_report
from esb.scheduling import run_job
from esb.sdk import Schedule
from esb.settings import Settings, demo_config_dir
from esb.store.engine import create_engine
from esb.store.migrate import upgrade

pytestmark = pytest.mark.usefixtures("mode")


@pytest.fixture
async def engines(
    mode_settings: dict[str, Any], tmp_path: Path
) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    settings = Settings(config=tmp_path, **mode_settings)
    first, second = create_engine(settings), create_engine(settings)
    if settings.embedded:
        await upgrade(settings.effective_database_url)
    yield first, second
    await first.dispose()
    await second.dispose()


async def test_two_processes_run_a_job_once_per_tick_and_the_report_shows_it(
    engines: tuple[AsyncEngine, AsyncEngine], tmp_path: Path
) -> None:
    first, second = engines
    calls: list[str] = []
    running = 0
    most = 0
    metrics = Metrics()

    def work_of(process: str):  # type: ignore[no-untyped-def]
        async def work() -> int:
            nonlocal running, most
            running += 1
            most = max(most, running)
            calls.append(process)
            caught_up.clear()
            await asyncio.sleep(0.01)
            running -= 1
            if len(calls) == 2:
                raise RuntimeError("the MES database went away")
            return 4

        return work

    runs: list[Any] = []

    caught_up = asyncio.Event()  # every call's run recorded: none in progress

    def recorded(run: Any) -> None:  # called once the run's record is saved
        runs.append(run)
        metrics.scheduled_run("xref-check", run)
        if len(runs) == len(calls):
            caught_up.set()

    every = Schedule.parse("200ms")
    jobs = [
        asyncio.ensure_future(
            run_job(
                engine,
                "xref-check",
                every,
                work_of(name),
                owner=name,
                on_run=recorded,
            )
        )
        for engine, name in ((first, "gw-1"), (second, "gw-2"))
    ]
    await asyncio.sleep(1.1)
    # stop between runs: a cancel that lands after a run's work and before its record is
    # saved leaves one call unrecorded (a loaded CI run: 6 calls, 5 runs recorded)
    while not caught_up.is_set():  # checked again on waking: a run may have begun since
        await caught_up.wait()
    for job in jobs:  # no await since the check: no run can have begun
        job.cancel()
    for job in jobs:
        with contextlib.suppress(asyncio.CancelledError):
            await job

    assert most == 1
    assert len(set(calls)) == 1, calls  # the lease holder alone ran it
    assert 5 <= len(calls) <= 7, calls  # at once, then every 200 ms: not twice per tick
    report = await build_report(first, _demo_config())
    (row,) = report["schedules"]
    assert row["job"] == "xref-check"
    assert row["interface"] is None
    assert row["runs"] == len(calls)
    assert row["failures"] == 1
    assert row["rows"] == 4
    assert row["error"] is None
    assert row["last_ok_at"] == row["started_at"]
    scraped = generate_latest(metrics.registry).decode()
    assert (
        f'esb_scheduled_runs_total{{job="xref-check",outcome="ok"}} {len(calls) - 1}.0' in scraped
    )
    assert 'esb_scheduled_runs_total{job="xref-check",outcome="failed"} 1.0' in scraped
    assert f'esb_scheduled_rows_total{{job="xref-check"}} {4.0 * (len(calls) - 1)}' in scraped


def _demo_config() -> GatewayConfig:
    return load_config(demo_config_dir(), load_registry(), {"ESB_DATA_DIR": "var"})
