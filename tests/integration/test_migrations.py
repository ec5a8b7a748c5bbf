"""``esb db upgrade`` builds the schema from nothing, and the migrations match the models."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import orjson
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from esb.store.accept import NewMessage, accept_messages
from esb.store.migrate import alembic_config
from esb.store.migrate import upgrade as upgrade_to
from esb.store.source_state import SourceStateStore
from esb.store.tables import metadata
from esb_file.ledger import Ledger
from esb_file.report import FileReport
from tests.support.fixtures import PG_ADMIN_URL

ESB = [sys.executable, "-m", "esb"]


def diff(sync_url: str) -> list[object]:
    engine = create_engine(sync_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def upgrade(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ESB, "db", "upgrade"],
        env={**os.environ, "ESB_LANG": "en", **env},  # the English line is checked
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_upgrade_on_empty_postgresql_and_models_agree(pg_url: str) -> None:
    name = f"esb_mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        result = upgrade({"ESB_DATABASE_URL": url})
        assert result.returncode == 0, result.stderr
        assert "database at head" in result.stdout
        assert diff_pg(url) == []
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def diff_pg(url: str) -> list[object]:
    """Compare over asyncpg (the driver we ship) through the async engine's sync facade."""
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run() -> list[object]:
        engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda c: list(
                        compare_metadata(
                            MigrationContext.configure(c, opts={"compare_type": True}), metadata
                        )
                    )
                )
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_on_empty_sqlite_and_models_agree(tmp_path: Path) -> None:
    result = upgrade({"ESB_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "esb.db").exists()
    assert diff(f"sqlite:///{tmp_path / 'esb.db'}") == []


LEDGER_ROWS = [  # inbound_files as migration 0004 made it, in the order files were found
    {"interface": "shipment", "name": "day.csv", "sha256": "11" * 32, "size": 10,
     "status": "done", "rows_accepted": 2, "rows_refused": 1,
     "report": '{"accepted": 2, "refused": 1, "last_row": 4, "moved_to": "archive/day.csv"}'},
    {"interface": "shipment", "name": "day.csv", "sha256": "22" * 32, "size": 20,
     "status": "done", "rows_accepted": 5, "rows_refused": 0,
     "report": '{"accepted": 5, "last_row": 6, "changed": "appended",'
               ' "changed_to": {"continuable": true}}'},
    {"interface": "shipment", "name": "发货单.csv", "sha256": "33" * 32, "size": 30,
     "status": "processing", "rows_accepted": 0, "rows_refused": 0, "report": None},
    {"interface": "returns", "name": "day.csv", "sha256": "11" * 32, "size": 10,
     "status": "failed", "rows_accepted": 0, "rows_refused": 0,
     "report": '{"problem": "not UTF-8"}'},
]  # fmt: skip


async def _database(kind: str, tmp_path: Path) -> tuple[str, str | None]:
    """An empty database's async URL, and the PostgreSQL database to drop afterwards."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'esb.db'}", None
    name = f"esb_mig_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{url}/{name}", name


def _as_sqlite(when: datetime) -> str:
    """A time as the store writes it into SQLite (UTC, no zone, microseconds)."""
    return when.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_the_file_ledger_moves_into_the_source_state_and_back(
    kind: str, tmp_path: Path, pg_url: str
) -> None:
    """0011 carries every inbound_files row into the file drop's state, where the ledger
    reads it as before; its downgrade carries them back."""
    url, database = await _database(kind, tmp_path)
    engine = create_async_engine(url)
    try:
        await upgrade_to(url, "0010")
        started = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
        async with engine.begin() as conn:
            for n, row in enumerate(LEDGER_ROWS):
                found = started + timedelta(minutes=n)
                await conn.execute(
                    text(
                        "INSERT INTO inbound_files (interface, name, sha256, size, status, "
                        "rows_accepted, rows_refused, report, started_at) VALUES (:interface, "
                        ":name, :sha256, :size, :status, :rows_accepted, :rows_refused, :report, "
                        ":started_at)"
                    ),
                    {**row, "started_at": found if kind == "postgresql" else _as_sqlite(found)},
                )
        await upgrade_to(url, "head")

        state = SourceStateStore(engine, "shipment", "file-drop")
        first = await state.get("file/" + "11" * 32)
        assert (first["name"], first["status"], first["rows_refused"]) == ("day.csv", "done", 1)
        assert datetime.fromisoformat(first["started_at"]) == started
        shipment = Ledger(state)
        done = await shipment.claim("copy.csv", "11" * 32, 10)
        assert (done.state, done.name) == ("done", "day.csv")
        report = FileReport.from_json(done.checkpoint, file="x", sha256="", limit=10)
        assert (report.accepted, report.refused, report.moved_to) == (2, 1, "archive/day.csv")
        [earlier] = await shipment.changed_earlier("day.csv")  # the appended one, not the archived
        assert (earlier.sha256, earlier.size, earlier.last_row) == ("22" * 32, 20, 6)
        resumed = await shipment.claim("发货单.csv", "33" * 32, 30)
        assert (resumed.state, resumed.checkpoint) == ("resume", None)
        returns = Ledger(SourceStateStore(engine, "returns", "file-drop"))
        assert (await returns.claim("day.csv", "11" * 32, 10)).state == "new"  # failed: again

        await asyncio.to_thread(command.downgrade, alembic_config(url), "0010")
        async with engine.connect() as conn:
            back = (await conn.execute(text("SELECT * FROM inbound_files ORDER BY id"))).all()
        assert [(r.interface, r.name, r.sha256, r.status) for r in back] == [
            ("shipment", "day.csv", "11" * 32, "done"),
            ("shipment", "day.csv", "22" * 32, "done"),
            ("shipment", "发货单.csv", "33" * 32, "processing"),
            ("returns", "day.csv", "11" * 32, "processing"),  # claimed again just now
        ]
        assert orjson.loads(back[1].report)["changed_to"] == {"continuable": True}
        assert (back[1].size, back[1].rows_accepted) == (20, 5)
    finally:
        await engine.dispose()
        if database is not None:
            await _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_downgrading_ordering_queues_the_waiting_deliveries(
    kind: str, tmp_path: Path, pg_url: str
) -> None:
    """0012's downgrade leaves nothing waiting for a head that no longer exists: waiting
    deliveries get an outbox row (they go out unordered), superseded ones are discarded."""

    def update(step: int) -> NewMessage:
        return NewMessage(
            interface="status-update", message_type="status_update", source_system="erp",
            business_key="SO-1", idempotency_key=f"key:{step}", content_type="application/json",
            body=f'{{"Step": {step}}}', targets=["mes"], ordered={"mes": step == 2},
        )  # fmt: skip

    url, database = await _database(kind, tmp_path)
    engine = create_async_engine(url)
    try:
        await upgrade_to(url, "head")
        accepted = await accept_messages(engine, [update(0), update(1), update(2)])
        head, replaced, waiting = (a.deliveries[0].id for a in accepted)
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0011")
        async with engine.connect() as conn:
            queued = (await conn.execute(text("SELECT delivery_id, status FROM outbox"))).all()
            found = await conn.execute(text("SELECT id, status FROM deliveries"))
            statuses = {r.id: r.status for r in found}
        ids = {uuid.UUID(str(r.delivery_id)): r.status for r in queued}
        assert ids == {head: "pending", waiting: "pending"}
        by_id = {uuid.UUID(str(k)): v for k, v in statuses.items()}
        assert by_id == {head: "pending", replaced: "discarded", waiting: "pending"}
        await upgrade_to(url, "head")  # and up again
    finally:
        await engine.dispose()
        if database is not None:
            await _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_the_value_report_tables_go_down_and_come_back(
    kind: str, tmp_path: Path, pg_url: str
) -> None:
    """0017's downgrade drops the refusal counters and the rollup; upgrading makes them
    again, empty (the rollup starts over from the deliveries)."""
    url, database = await _database(kind, tmp_path)
    engine = create_async_engine(url)
    try:
        await upgrade_to(url, "head")
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0016")
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert not names & {"refusals", "value_days", "value_latency", "value_rollup"}
        await upgrade_to(url, "head")
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert names >= {"refusals", "value_days", "value_latency", "value_rollup"}
    finally:
        await engine.dispose()
        if database is not None:
            await _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
