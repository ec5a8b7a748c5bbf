"""The user's database, reached carefully: a small bounded pool, timeouts on connecting
and on every statement, parameters never written into logs or errors, the password
never shown."""

from __future__ import annotations

from typing import Any

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from esb.sdk import async_database_url

__all__ = ["open_engine", "shown_url"]

#: A pooled connection older than this is replaced (servers drop idle ones: MySQL's
#: wait_timeout defaults to 8 hours, firewalls far sooner).
RECYCLE_S = 1800


def shown_url(url: str) -> str:
    """The URL as logs may show it: the password masked."""
    try:
        return make_url(async_database_url(url)).render_as_string(hide_password=True)
    except Exception:  # never let a malformed URL reach a log line
        return "(a database URL)"


def _connect_args(backend: str, timeout: float) -> dict[str, Any]:
    if backend == "postgresql":  # asyncpg: connect and per-statement timeouts
        return {"timeout": timeout, "command_timeout": timeout}
    if backend in ("mysql", "mariadb"):  # asyncmy
        return {"connect_timeout": max(1, round(timeout))}
    if backend == "sqlite":
        return {"timeout": timeout}
    return {}  # SQL Server, Oracle: the statement guard in the source bounds each call


def open_engine(url: str, *, pool_size: int, timeout: float) -> AsyncEngine:
    """An engine for the source's database (it connects on first use)."""
    full = make_url(async_database_url(url))
    backend = full.get_backend_name()
    options: dict[str, Any] = {
        "connect_args": _connect_args(backend, timeout),
        "hide_parameters": True,  # rows' values stay out of error messages and logs
        "pool_pre_ping": True,
    }
    if backend != "sqlite":
        options.update(
            pool_size=pool_size, max_overflow=0, pool_timeout=timeout, pool_recycle=RECYCLE_S
        )
    return create_async_engine(full, **options)
