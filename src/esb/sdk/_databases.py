"""Database URLs as people write them, turned into the async driver URLs SQLAlchemy needs.

A user writes ``mysql://user:pw@host/mes`` or ``postgresql://...``; the gateway picks the
async driver it ships (or documents) itself, so nobody has to know driver names. A URL
that already names a driver (``postgresql+asyncpg://``) is kept as it is.
"""

from __future__ import annotations

__all__ = ["ASYNC_DRIVERS", "async_database_url"]

#: Plain scheme -> the SQLAlchemy dialect+driver the gateway uses for it.
ASYNC_DRIVERS = {
    "mysql": "mysql+asyncmy",
    "mariadb": "mysql+asyncmy",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "mssql": "mssql+aioodbc",
    "sqlserver": "mssql+aioodbc",
    "oracle": "oracle+oracledb_async",
    "sqlite": "sqlite+aiosqlite",
}


def async_database_url(url: str) -> str:
    """``url`` with the async driver for its scheme; a URL naming a driver is kept.

    ValueError for a scheme the gateway does not know (the message names the known ones;
    it never repeats the URL, which may hold a password)."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        raise ValueError("a database URL looks like mysql://user:password@host:3306/db")
    if "+" in scheme:
        return url
    driver = ASYNC_DRIVERS.get(scheme.lower())
    if driver is None:
        known = ", ".join(f"{s}://" for s in ASYNC_DRIVERS)
        raise ValueError(f"unknown database scheme {scheme!r}; known: {known}")
    return f"{driver}://{rest}"
