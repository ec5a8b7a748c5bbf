"""Database URLs as people write them, turned into the async URLs SQLAlchemy needs.

A user writes ``mysql://user:pw@host/mes`` or ``postgresql://...``; which async driver
the gateway uses is its own business, so the plain schemes are mapped here once (for
the sources, the connectors and the named queries alike). A URL that names a driver
(``postgresql+asyncpg://``) is kept as written.
"""

from __future__ import annotations

__all__ = ["ASYNC_DRIVERS", "async_database_url"]

#: Plain scheme -> the SQLAlchemy dialect+driver the gateway ships (or documents).
ASYNC_DRIVERS = {
    "mysql": "mysql+asyncmy",
    "mariadb": "mysql+asyncmy",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "mssql": "mssql+aioodbc",
    "oracle": "oracle+oracledb_async",
    "sqlite": "sqlite+aiosqlite",
}


def async_database_url(url: str) -> str:
    """The SQLAlchemy async URL for ``url``; ValueError naming the scheme if unknown.
    The password is kept (this is the URL to connect with, never one to log)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("a database URL looks like mysql://user:password@host:3306/name")
    if "+" in scheme:  # the driver is named: the user knows which one they want
        return url
    driver = ASYNC_DRIVERS.get(scheme.lower())
    if driver is None:
        known = ", ".join(sorted(ASYNC_DRIVERS))
        raise ValueError(f"unknown database kind {scheme!r} (known: {known})")
    return f"{driver}://{rest}"
