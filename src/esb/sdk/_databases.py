"""A database URL as people write it, turned into the one SQLAlchemy's asyncio engine needs.

Integration teams write ``mysql://user:pw@host/mes``; SQLAlchemy's async engine needs a
driver named in the scheme (``mysql+asyncmy``). The gateway picks the driver so users
never need to know driver names: the ones for MySQL/MariaDB, PostgreSQL and SQLite ship
with the gateway; SQL Server and Oracle need their driver installed beside it (named in
the error SQLAlchemy raises if it is missing). A URL that already names a driver is kept.
"""

from __future__ import annotations

__all__ = ["ASYNC_DRIVERS", "async_database_url"]

#: scheme as written -> scheme with the asyncio driver the gateway uses for it
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
    """``mysql://u:p@h/db`` -> ``mysql+asyncmy://u:p@h/db``; ValueError for an unknown scheme."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        raise ValueError("a database URL looks like mysql://user:password@host:3306/database")
    if "+" in scheme:
        return url  # the driver is named already
    driver = ASYNC_DRIVERS.get(scheme.lower())
    if driver is None:
        known = ", ".join(sorted(ASYNC_DRIVERS))
        raise ValueError(f"unknown database {scheme!r} in the URL: use one of {known}")
    return f"{driver}://{rest}"
