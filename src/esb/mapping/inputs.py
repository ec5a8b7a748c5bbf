"""Input validation at the door: JSON Schema (Draft 2020-12) and the formats integration needs.

Formats we add: ``decimal`` (a decimal number written as text, ``"12.50"``),
``date:<pattern>`` (a real calendar date in that pattern, ``date:yyyyMMdd``),
``datetime:<pattern>`` (``datetime:yyyy-MM-dd HH:mm``) and ``date-time`` (RFC
3339, checked here because jsonschema's own check needs an extra package). A
format nobody knows is an error at load time, not a check silently skipped.
Every offending field is reported with its own path (``Lines[1].Qty``).

A document is first checked by a compiled validator (jsonschema-rs: about 1 µs where the
reference implementation takes 50-60, most of the intake of a staging table); only a
document it does not find valid is walked by ``jsonschema``, which names the fields and
has the last word, so the answers are the reference implementation's. Formats are checked
by the same functions in both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from esb.configfile.yamlfile import format_loc
from esb.errors import ConfigError, FieldProblem, MappingError
from esb.mapping.patterns import DATE_LETTERS, PatternError, compile_pattern

_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_SKIP = frozenset({"const", "enum", "default", "examples"})


class InputSchemaError(MappingError):
    """An input schema that is not valid JSON Schema or uses an unknown format."""


def _is_decimal(value: object) -> bool:
    return not isinstance(value, str) or bool(_DECIMAL.fullmatch(value))


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.fullmatch(value):
        return False
    try:  # the shape is RFC 3339's; is it a real moment (no 30 February, no hour 24)?
        datetime.fromisoformat(value)  # as most are written: nothing to rewrite first
    except ValueError:
        try:  # a lower-case "t" or "z", or "Z" where an older Python wants "+00:00"
            datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:
            return False
    return True


def _pattern_check(name: str) -> Callable[[object], bool]:
    kind, _, text = name.partition(":")
    try:
        pattern = compile_pattern(text)
    except PatternError as exc:
        raise InputSchemaError(f"format {name!r}: {exc}") from exc
    if not pattern.is_iso and not {"y", "M", "d"} <= pattern.letters:
        raise InputSchemaError(f"format {name!r}: the pattern needs yyyy, MM and dd")
    if kind == "date" and pattern.letters - DATE_LETTERS:
        raise InputSchemaError(f"format {name!r}: a date has no time; use datetime:{text}")
    return lambda value: not isinstance(value, str) or pattern.read(value) is not None


def _formats(node: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every ``format`` value of the schema with its JSON pointer."""
    if isinstance(node, dict):
        if isinstance(node.get("format"), str):
            yield pointer, node["format"]
        for key, child in node.items():
            if key not in _SKIP:
                yield from _formats(child, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _formats(child, f"{pointer}/{index}")


def _checker(schema: Mapping[str, Any]) -> FormatChecker:
    checker = FormatChecker()
    checker.checks("decimal")(_is_decimal)
    checker.checks("date-time")(_is_date_time)
    for pointer, name in _formats(schema):
        if name.startswith(("date:", "datetime:")):
            checker.checks(name)(_pattern_check(name))
        elif name not in checker.checkers:
            known = ", ".join(sorted(checker.checkers))
            raise InputSchemaError(
                f"{pointer or '/'}: unknown format {name!r} (known: "
                f"{known}, date:<pattern>, datetime:<pattern>)"
            )
    return checker


def _format_message(error: ValidationError) -> str:
    name, value = str(error.validator_value), error.instance
    if name == "decimal":
        return f'{value!r} is not a decimal number written as text (e.g. "12.50")'
    if name.startswith("date:"):
        return f"{value!r} is not a real date written {name[5:]}"
    if name.startswith("datetime:"):
        return f"{value!r} is not a date and time written {name[9:]}"
    return f"{value!r} is not a valid {name}"


Located = tuple[tuple[str | int, ...], FieldProblem]


def _unexpected(error: ValidationError, path: tuple[str | int, ...]) -> list[Located]:
    """additionalProperties: name each unexpected property, not only their parent."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    allowed, patterns = schema.get("properties", {}), schema.get("patternProperties", {})
    extra = [k for k in error.instance if k not in allowed]
    extra = [k for k in extra if not any(re.search(p, k) for p in patterns)]
    return [((*path, k), FieldProblem(format_loc((*path, k)), "is not allowed")) for k in extra]


def _closest(error: ValidationError) -> ValidationError | None:
    """In the first alternative whose type fits the value, its deepest error; else None."""
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    for errors in branches.values():
        if not any(e.validator == "type" for e in errors):
            return max(errors, key=lambda e: len(e.absolute_path))
    return None


def _problems(error: ValidationError) -> list[Located]:
    """The problems one error stands for, each with the path of the field it is about."""
    path = tuple(error.absolute_path)
    if error.validator in ("anyOf", "oneOf") and (closest := _closest(error)) is not None:
        return _problems(closest)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [n for n in error.validator_value if n not in error.instance]
        return [((*path, n), FieldProblem(format_loc((*path, n)), "is required")) for n in missing]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        return _unexpected(error, path)
    message = _format_message(error) if error.validator == "format" else error.message
    return [(path, FieldProblem(format_loc(path), message))]


def _order(located: Located) -> tuple[tuple[bool, Any], ...]:
    return tuple((isinstance(p, str), p) for p in located[0])


class InputValidator:
    """A compiled input schema; ``validate`` lists every offending field (empty: valid)."""

    def __init__(
        self, validator: Draft202012Validator, fast: jsonschema_rs.Validator | None = None
    ) -> None:
        self._validator = validator
        self._fast = fast

    def validate(self, body: Any) -> list[FieldProblem]:
        """Every problem once, by the path of its field (``Lines[2]`` before ``Lines[10]``)."""
        if self._fast is not None:
            try:
                if self._fast.is_valid(body):
                    return []
            except (ValueError, TypeError, OverflowError):  # a value it cannot take: the walk
                pass
        located = [p for error in self._validator.iter_errors(body) for p in _problems(error)]
        problems: list[FieldProblem] = []
        for _, problem in sorted(located, key=_order):
            if problem not in problems:
                problems.append(problem)
        return problems


def load_input_schema(path: Path) -> InputValidator:
    """Read and compile a schema file; ConfigError as ``file:line: problem`` if it is wrong."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError([f"{path}:{exc.lineno}: JSON syntax: {exc.msg}"]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}:1: cannot read: {exc}"]) from exc
    if not isinstance(document, dict):
        raise ConfigError([f"{path}:1: a JSON Schema is an object"])
    try:
        return compile_input_schema(document)
    except InputSchemaError as exc:
        raise ConfigError([f"{path}:1: {exc}"]) from exc


def compile_input_schema(schema: Mapping[str, Any]) -> InputValidator:
    """Check ``schema`` once (InputSchemaError if it is wrong) and return its validator."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(schema)"
        raise InputSchemaError(f"{where}: {exc.message}") from exc
    checker = _checker(schema)
    validator = Draft202012Validator(dict(schema), format_checker=checker)
    return InputValidator(validator, _compiled(schema, checker))


def _compiled(schema: Mapping[str, Any], checker: FormatChecker) -> jsonschema_rs.Validator | None:
    """The fast validator, its formats checked by ``checker``; None if it cannot take the
    schema (every document is then walked by ``jsonschema``)."""
    names = {name for _, name in _formats(schema)}
    formats = {name: _conforms(checker, name) for name in names}
    try:
        return jsonschema_rs.Draft202012Validator(
            dict(schema), formats=formats, validate_formats=True, ignore_unknown_formats=False
        )
    except (ValueError, jsonschema_rs.ReferencingError):
        return None


def _conforms(checker: FormatChecker, name: str) -> Callable[[str], bool]:
    """``checker.conforms(value, name)`` without its per-call lookups (called per value)."""
    function, raises = checker.checkers[name]
    if not raises:  # nothing to catch (the gateway's own formats): no wrapper per value
        return cast(Callable[[str], bool], function)

    def conforms(value: str) -> bool:
        try:
            return bool(function(value))
        except raises:
            return False

    return conforms
