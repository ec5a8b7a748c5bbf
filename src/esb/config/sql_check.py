"""Is this SQL one read-only query? Decided by a SQL parser (sqlglot), never a regex.

A named query must be exactly one ``SELECT`` (or ``WITH ... SELECT``, ``UNION`` ...)
statement: no ``INSERT``/``UPDATE``/``DELETE``/DDL anywhere in it (PostgreSQL allows
a ``DELETE`` inside a ``WITH``), no ``FOR UPDATE`` locks, no ``SELECT ... INTO``. The
read-only transaction it runs in is the second wall; this check makes ``esb check``
refuse such a query before it is ever served. Parameters are written ``:name``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

#: URL scheme (before any +driver) -> sqlglot's dialect.
DIALECTS = {
    "mysql": "mysql",
    "mariadb": "mysql",
    "postgresql": "postgres",
    "postgres": "postgres",
    "mssql": "tsql",
    "oracle": "oracle",
    "sqlite": "sqlite",
}

#: Nodes that change data or the schema, wherever they appear in the tree.
_WRITES: tuple[type[exp.Expr], ...] = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
    exp.Command,
    exp.Into,
    exp.Lock,
)


@dataclass
class SqlCheck:
    problems: list[str] = field(default_factory=list)
    parameters: set[str] = field(default_factory=set)  # the :names the SQL uses


def dialect_of(url: str) -> str | None:
    """sqlglot's dialect for a database URL (None: unknown, read as generic SQL)."""
    scheme = url.partition("://")[0].split("+", 1)[0].lower()
    return DIALECTS.get(scheme)


def _what(node: exp.Expr) -> str:
    if isinstance(node, exp.Lock):
        return "a locking clause (FOR UPDATE / FOR SHARE)"
    if isinstance(node, exp.Into):
        return "SELECT ... INTO"
    if isinstance(node, exp.Command):
        return f"a {str(node.this).upper()} command"
    word = node.key.upper()
    return f"{'an' if word[0] in 'AEIOU' else 'a'} {word} statement"


def check_sql(text: str, dialect: str | None) -> SqlCheck:
    """The problems of ``text`` as a named query, and the parameters it uses."""
    result = SqlCheck()
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0]
        result.problems.append(f"the SQL cannot be parsed ({dialect or 'generic'} SQL): {first}")
        return result
    if len(statements) != 1:
        result.problems.append(
            f"must be exactly one statement, found {len(statements)} (no ; between statements)"
        )
        return result
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        result.problems.append(
            f"only a SELECT or WITH query may be published, this is {_what(statement)}"
        )
        return result
    for node in statement.walk():
        if isinstance(node, _WRITES):
            result.problems.append(f"only reading is allowed, the query holds {_what(node)}")
            return result
    for placeholder in statement.find_all(exp.Placeholder):
        name = placeholder.name
        if not name or name == "?":
            result.problems.append("write each parameter as :name (positional ? is not allowed)")
            return result
        result.parameters.add(name)
    return result
