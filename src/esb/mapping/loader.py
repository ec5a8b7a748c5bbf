"""``load_mappings``: read, validate and compile every mapping and shared code table of a folder.

Every problem of every file is collected and reported at once as
``file:line: key.path: message``; nothing half-valid is returned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from esb.configfile import NAME_PATTERN, YamlDocument, problem, read_yaml, validate
from esb.errors import ConfigError
from esb.mapping.codetables import Converter, table_converter
from esb.mapping.compiler import Compilation, compile_object
from esb.mapping.engine import CompiledMapping, MappingSet
from esb.mapping.models import TAGS, CodeTable, CodeTableFile, MappingFile
from esb.mapping.problems import Loc

MAPPINGS = "mappings"
CODE_TABLES = "code-tables"
_NAME = re.compile(NAME_PATTERN)
M = TypeVar("M", bound=BaseModel)


def _files(folder: Path, problems: list[str]) -> list[Path]:
    """The ``*.yaml`` files of ``folder``; a ``.yml`` or a bad name is a problem, not a skip."""
    if not folder.is_dir():
        return []
    for path in sorted(folder.glob("*.yml")):
        problems.append(f"{path}:1: rename to {path.stem}.yaml (only .yaml files are read)")
    paths = sorted(folder.glob("*.yaml"))
    for path in paths:
        if not _NAME.match(path.stem):
            problems.append(
                f"{path}:1: the file name {path.stem!r} is not a valid name "
                "(letters, digits, _ . -)"
            )
    return [p for p in paths if _NAME.match(p.stem)]


def _without_tags(_: object, loc: Loc) -> Loc:
    return tuple(p for p in loc if p not in TAGS)


def _validate(doc: YamlDocument, model: type[M], problems: list[str]) -> M | None:
    """The file's model; None (its problems added) when it has any problem."""
    parsed = validate(doc, model, _without_tags)
    problems.extend(doc.problems)
    return None if doc.problems else parsed


def _table(name: str, table: CodeTable) -> Converter:
    return table_converter(name, table.values, table.unknown, table.default)


def _shared_tables(
    folder: Path, env: Mapping[str, str], problems: list[str]
) -> tuple[dict[str, Converter], set[str]]:
    tables: dict[str, Converter] = {}
    broken: set[str] = set()
    for path in _files(folder, problems):
        parsed = _validate(read_yaml(path, env), CodeTableFile, problems)
        if parsed is None:
            broken.add(path.stem)
        else:
            tables[path.stem] = _table(path.stem, parsed)
    return tables, broken


def _tables(
    doc: YamlDocument,
    parsed: MappingFile,
    shared: Mapping[str, Converter],
    broken: set[str],
    problems: list[str],
) -> dict[str, Converter]:
    """Shared tables plus this mapping's own; an own table may not shadow a shared one."""
    tables = dict(shared)
    for name, table in parsed.code_tables.items():
        if name in shared or name in broken:
            clash = (
                f"code table {name!r} is also {CODE_TABLES}/{name}.yaml: give this one another name"
            )
            problems.append(problem(doc, ("code_tables", name), clash))
        tables[name] = _table(name, table)
    return tables


def _compile(
    doc: YamlDocument,
    parsed: MappingFile,
    shared: Mapping[str, Converter],
    broken: set[str],
    problems: list[str],
) -> CompiledMapping | None:
    tables = _tables(doc, parsed, shared, broken, problems)
    env = Compilation(parsed.source, parsed.target, tables, frozenset(broken))
    build = compile_object(parsed.fields, ("fields",), env)
    problems.extend(
        problem(doc, loc, message) for loc, message in env.problems if not doc.is_unset(loc)
    )
    if env.problems:
        return None
    return CompiledMapping(
        doc.path.stem,
        parsed.source,
        parsed.target,
        build=build,
        xref_domains=frozenset(env.domains),
        needs_scope=env.needs_scope,
        description=parsed.description,
    )


def read_mappings(folder: Path, env: Mapping[str, str]) -> tuple[MappingSet, set[str], list[str]]:
    """Every mapping that compiles, the names of those that do not, and every problem:
    ``esb check`` reports a broken mapping once, not as unknown wherever it is used."""
    problems: list[str] = []
    shared, broken = _shared_tables(folder / CODE_TABLES, env, problems)
    mappings: dict[str, CompiledMapping] = {}
    failed: set[str] = set()
    for path in _files(folder / MAPPINGS, problems):
        doc = read_yaml(path, env)
        parsed = validate(doc, MappingFile, _without_tags)  # also when a ${VAR} is unset
        problems.extend(doc.problems)
        compiled = None if parsed is None else _compile(doc, parsed, shared, broken, problems)
        if compiled is None or doc.problems:
            failed.add(path.stem)
        else:
            mappings[path.stem] = compiled
    return MappingSet(mappings), failed, problems


def load_mappings(folder: Path, env: Mapping[str, str]) -> MappingSet:
    """Compile ``folder``'s mappings and shared code tables; ConfigError lists every problem."""
    mappings, _, problems = read_mappings(folder, env)
    if problems:
        raise ConfigError(problems)
    return mappings


def schema_models() -> dict[str, type[BaseModel]]:
    """The file kinds of this package, for ``esb schemas`` (``schemas/<kind>.schema.json``)."""
    return {"mapping": MappingFile, "code-table": CodeTableFile}
