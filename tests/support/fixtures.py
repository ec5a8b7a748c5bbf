"""Fixtures over real services: PostgreSQL, RabbitMQ, HTTP servers, files on disk.

A test that needs a service it cannot reach fails and says how to start it; it is
never skipped. Each run gets its own PostgreSQL database; each test its own
RabbitMQ queue prefix and (embedded) its own SQLite file.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.settings import Settings
from esb.store.engine import create_engine
from esb.store.migrate import ensure_schema, upgrade_sync
from esb.store.tables import metadata
from tests.support.gateway import ADMIN_KEY, GatewayUnderTest
from tests.support.target import TargetServer

PG_ADMIN_URL = os.environ.get("ESB_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")
RABBIT_URL = os.environ.get("ESB_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672/")
HOW_TO_START = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "RabbitMQ": "rabbitmq-server -detached",
}


def _require(service: str, host: str, port: int) -> None:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        pytest.fail(
            f"{service} is not reachable on {host}:{port} ({exc}); start it with: "
            f"{HOW_TO_START[service]}",
            pytrace=False,
        )


@pytest.fixture(autouse=True, scope="session")
def _clean_environment() -> Iterator[None]:
    """ESB_* variables of the shell must not leak into the settings tests build."""
    saved = {
        k: os.environ.pop(k)
        for k in list(os.environ)
        if k.startswith("ESB_") and not k.startswith("ESB_TEST_")
    }
    yield
    os.environ.update(saved)


@pytest.fixture(autouse=True, scope="session")
def _plain_tracebacks() -> None:
    """structlog's default console renderer draws each traceback with every frame's locals
    (rich): seconds of a blocked event loop in a test that logs many errors. The plain
    formatter keeps the text and the default's late binding to the captured stdout."""
    processors = list(structlog.get_config()["processors"])
    processors[-1] = structlog.dev.ConsoleRenderer(
        colors=False, exception_formatter=structlog.dev.plain_traceback
    )
    structlog.configure(processors=processors)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, migrated with Alembic (esb db upgrade)."""
    _require("PostgreSQL", "127.0.0.1", 5432)
    name = f"esb_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade_sync(url.replace("postgresql://", "postgresql+asyncpg://"))
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


TABLES = ", ".join(t.name for t in reversed(metadata.sorted_tables))


@pytest.fixture
async def pg_clean(pg_url: str) -> str:
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()
    return pg_url


@pytest.fixture(scope="session")
def rabbit_url() -> str:
    _require("RabbitMQ", "127.0.0.1", 5672)
    return RABBIT_URL


@pytest.fixture(params=["embedded", "production"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def sqlite_at_head(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded database migrated once for the run: each embedded test starts from a
    copy (the gateway finds it at head) instead of running every migration again; the
    migrations themselves are tested in test_migrations.py."""
    path = tmp_path_factory.mktemp("sqlite-template") / "esb.db"
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def mode_settings(mode: str, request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Settings that select the mode: SQLite + in-process queue, or PostgreSQL + RabbitMQ."""
    base: dict[str, Any] = {
        "data_dir": tmp_path / "var",
        "admin_key": ADMIN_KEY,
        "poll_interval": 0.05,
        "log_format": "console",
    }
    if mode == "embedded":
        base["data_dir"].mkdir(parents=True, exist_ok=True)
        shutil.copyfile(request.getfixturevalue("sqlite_at_head"), base["data_dir"] / "esb.db")
    if mode == "production":
        base["database_url"] = request.getfixturevalue("pg_clean")
        base["broker_url"] = request.getfixturevalue("rabbit_url")
        base["broker_prefix"] = f"esbtest-{uuid.uuid4().hex[:10]}"
    return base


GatewayFactory = Callable[..., Awaitable[GatewayUnderTest]]


@pytest.fixture
async def mode_engine(mode_settings: dict[str, Any]) -> AsyncIterator[AsyncEngine]:
    """The store's engine in this mode (SQLite or PostgreSQL), its schema at head."""
    settings = Settings(**mode_settings)
    engine = create_engine(settings)
    await ensure_schema(engine, settings.effective_database_url, auto=True)
    yield engine
    await engine.dispose()


@pytest.fixture
async def make_gateway(
    mode_settings: dict[str, Any], tmp_path: Path
) -> AsyncIterator[GatewayFactory]:
    """Build and start gateways on a config folder; all are stopped and cleaned up after."""
    made: list[GatewayUnderTest] = []

    async def factory(
        config: Path,
        *,
        start: bool = True,
        env: dict[str, str] | None = None,
        connectors: dict[str, type[Any]] | None = None,
        **overrides: Any,
    ) -> GatewayUnderTest:
        settings = Settings(config=config, **{**mode_settings, **overrides})
        gut = GatewayUnderTest(settings, env, connectors)
        made.append(gut)
        return await gut.start() if start else gut

    yield factory
    for gut in made:
        await gut.aclose()


@pytest.fixture
async def target() -> AsyncIterator[TargetServer]:
    server = await TargetServer().start()
    yield server
    await server.stop()
