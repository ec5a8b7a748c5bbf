"""What a database's refusal means for a delivery: try again later, or park naming why.

Transient: the database is unreachable, the connection dropped, a deadlock or a lock
wait timed out, the server is shutting down or too busy. Permanent: a constraint or a
value refused (NOT NULL, CHECK, foreign key, too long, out of range), the table or a
column missing, no permission; the reason names the column or constraint when the
database says which.
"""

from __future__ import annotations

import asyncmy.errors
import asyncpg
from sqlalchemy import exc as sa_exc

from esb.sdk import shorten

#: PostgreSQL SQLSTATE classes/codes that may clear by themselves.
_PG_TRANSIENT_CLASSES = ("08", "53", "57", "58")  # connection, resources, operator, system
_PG_TRANSIENT = {"40001", "40P01", "55P03"}  # serialization, deadlock, lock not available
#: MariaDB/MySQL error numbers that may clear by themselves.
_MYSQL_TRANSIENT = {
    1040, 1053, 1205, 1213, 1969, 2002, 2003, 2006, 2013, 2055, 1927, 3024,
}  # fmt: skip


def driver_error(error: BaseException) -> BaseException:
    """The driver's exception under SQLAlchemy's and its adapter's wrapping."""
    found = getattr(error, "orig", None) or error
    cause = found.__cause__
    return cause if isinstance(cause, asyncpg.PostgresError) else found


def transient(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    orig = driver_error(error)
    if isinstance(orig, OSError | TimeoutError | asyncpg.InterfaceError):
        return True
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        return state in _PG_TRANSIENT or state.startswith(_PG_TRANSIENT_CLASSES)
    args = getattr(orig, "args", ())
    if isinstance(orig, asyncmy.errors.Error) and args and isinstance(args[0], int):
        return args[0] in _MYSQL_TRANSIENT or 2000 <= args[0] < 3000  # 2xxx: client side
    return False


def reason(error: BaseException) -> str:
    """The database's words, naming the column or constraint when it says which."""
    orig = driver_error(error)
    lines = str(orig).strip().splitlines()
    words = lines[0] if lines else type(orig).__name__
    named = []
    for attribute in ("column_name", "constraint_name", "table_name"):
        value = getattr(orig, attribute, None)
        if value and str(value) not in words:
            named.append(f"{attribute.split('_')[0]} {value}")
    detail = getattr(orig, "detail", None)
    if detail:
        named.append(str(detail))
    return shorten(words + (f" ({'; '.join(named)})" if named else ""))
