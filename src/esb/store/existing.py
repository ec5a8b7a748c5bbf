"""Open the database a gateway already has, for commands that read or act on what it stored.

``esb report``, ``esb replay``, ``esb xref export`` ... run from the wrong folder must not
leave an empty ``var/esb.db`` behind and then say "database unavailable": they look for
the database, and when it is not there (or has no tables, or an old schema) they say
where they looked and which setting points them at the right one.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.errors import StoreUnavailable
from esb.logs import scrub
from esb.settings import Settings
from esb.store.engine import create_engine, is_unavailable

VERSION_TABLE = "alembic_version"

POINT_AT_IT = (
    "run the command in the folder `esb serve` runs in, or set ESB_DATA_DIR to that "
    "gateway's data folder (or ESB_DATABASE_URL to its PostgreSQL database)"
)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL (or an in-memory database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database or "")


def describe(settings: Settings) -> str:
    """Where the database is, for a message (a password in the URL is masked)."""
    url = settings.effective_database_url
    path = sqlite_file(url)
    return str(path) if path is not None else scrub(url)


def _looked(settings: Settings) -> str:
    """Which setting gave the path: the data folder (relative to here) or the URL."""
    if settings.database_url:
        return "from ESB_DATABASE_URL"
    return f"ESB_DATA_DIR is {str(settings.data_dir)!r}, here {settings.data_dir.resolve()}"


def unreachable(settings: Settings, exc: BaseException) -> StoreUnavailable:
    """The driver's own first line (refused, no such database, wrong password) and where."""
    lines = str(getattr(exc, "orig", None) or exc).splitlines()
    reason = (lines[0] if lines else "") or type(exc).__name__
    return StoreUnavailable(
        f"cannot reach the database at {describe(settings)}: {reason} (check ESB_DATABASE_URL)"
    )


async def _revision(engine: AsyncEngine) -> str | None:
    """The schema's Alembic revision (read directly: Alembic's context logs on every use)."""

    def read(conn: Connection) -> str | None:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        found = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
        return None if found is None else str(found)

    async with engine.connect() as conn:
        return await conn.run_sync(read)


async def check_schema(engine: AsyncEngine, settings: Settings) -> None:
    """The database answers and has the schema this version of esb expects."""
    where = describe(settings)
    try:
        current = await _revision(engine)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        raise unreachable(settings, exc) from exc
    from esb.store.migrate import head_revision  # Alembic: 0.2 s to import, only here

    head = head_revision(settings.effective_database_url)
    if current is None:
        raise StoreUnavailable(
            f"the database at {where} has no gateway tables: create them with `esb db upgrade`, "
            "or point ESB_DATABASE_URL (embedded: ESB_DATA_DIR) at the gateway's database"
        )
    if current != head:
        raise StoreUnavailable(
            f"the database at {where} has schema {current}, this esb expects {head}: "
            "run `esb db upgrade`"
        )


async def open_existing(settings: Settings) -> AsyncEngine:
    """An engine on the gateway's existing database; StoreUnavailable says where it looked."""
    path = sqlite_file(settings.effective_database_url)
    if path is not None and not path.is_file():
        raise StoreUnavailable(
            f"no gateway database at {path} ({_looked(settings)}); this command never "
            f"creates one: {POINT_AT_IT}"
        )
    engine = create_engine(settings)
    try:
        await check_schema(engine, settings)
    except BaseException:
        await engine.dispose()
        raise
    return engine


async def no_work(_: AsyncEngine) -> None:
    """For ``with_database`` when only the check matters (the database is there)."""
