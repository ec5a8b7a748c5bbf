"""Reading ``queries.yaml``: the model, then what the model cannot see, each as file:line.

Beyond the schema: the SQL is one read-only statement (``sql_check``), every ``:name``
in it is a declared parameter and every declared parameter is used, a default reads
as its parameter's type, the database URL names a known kind of database, and every
system granted exists. A query switched off by ``enabled:`` never gets here (the YAML
reader leaves the block out, see ``esb.configfile.yamlfile``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from sqlalchemy import text as sql_text

from esb.config.queries import QueriesFile, QueryConfig
from esb.config.sql_check import check_sql, dialect_of
from esb.config.validate import validate
from esb.configfile.validation import problem
from esb.configfile.yamlfile import Loc, YamlDocument, read_yaml
from esb.queries.values import ParameterError, read_value
from esb.sdk._databases import async_database_url

FILE = "queries.yaml"


def _query_problems(
    doc: YamlDocument, name: str, query: QueryConfig, systems: Collection[str] | None
) -> list[str]:
    loc: Loc = ("queries", name)
    found: list[str] = []

    def add(where: Loc, message: str) -> None:
        if not doc.is_unset(where):
            found.append(problem(doc, where, message))

    if query.enabled:
        if not query.database.strip():
            add((*loc, "database"), "missing (required while the query is enabled)")
        else:
            try:
                async_database_url(query.database)
            except ValueError as exc:
                add((*loc, "database"), str(exc))
    checked = check_sql(query.sql, dialect_of(query.database))
    for text in checked.problems:
        add((*loc, "sql"), text)
    if not checked.problems:
        bound = set(sql_text(query.sql).compile().params)  # what will really be bound
        for odd in sorted(bound - checked.parameters):
            add((*loc, "sql"), f":{odd} inside a literal would be bound: write \\:{odd} there")
        declared = set(query.parameters)
        for missing in sorted(checked.parameters - declared):
            add((*loc, "sql"), f":{missing} is used but not declared under parameters")
        for unused in sorted(declared - checked.parameters):
            add((*loc, "parameters", unused), f"declared but the SQL has no :{unused}")
    for pname, parameter in query.parameters.items():
        if parameter.default is not None:
            try:
                read_value(pname, parameter, str(parameter.default))
            except ParameterError as exc:
                add((*loc, "parameters", pname, "default"), exc.message)
    known = ", ".join(sorted(systems or ())) or "none"
    for index, system in enumerate(query.systems):
        if systems is not None and system not in systems:
            add((*loc, "systems", index), f"unknown system {system!r} (known: {known})")
    return found


def read_queries(
    folder: Path,
    env: Mapping[str, str],
    systems: Collection[str] | None,
    problems: list[str],
    off: list[str] | None = None,
) -> dict[str, QueryConfig]:
    """The enabled queries of ``queries.yaml`` (none without the file); the names of
    those switched off by ``enabled:`` are added to ``off``."""
    path = folder / FILE
    if not path.is_file():
        return {}
    doc = read_yaml(path, env)
    parsed: QueriesFile | None = validate(doc, QueriesFile)
    problems.extend(doc.problems)
    if off is not None:
        off.extend(str(loc[1]) for loc in doc.disabled if len(loc) == 2 and loc[0] == "queries")
    if parsed is None:
        return {}
    for name, query in parsed.queries.items():
        problems.extend(_query_problems(doc, name, query, systems))
    return {name: query for name, query in parsed.queries.items() if query.enabled}
