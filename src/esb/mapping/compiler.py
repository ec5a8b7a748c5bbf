"""Compile a validated mapping file into closures, collecting every problem with its location.

Value pipeline of one field, in this order: read (path, expr) -> missing?
(default / required / omit) -> code_table -> xref -> date or datetime -> type.
Nothing here runs per message; the result is a tree of closures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from esb.mapping import closures
from esb.mapping.closures import Converter, FieldFn
from esb.mapping.convert import CONVERTERS
from esb.mapping.dates import date_converter, datetime_converter
from esb.mapping.engine import Builder, MappingContext
from esb.mapping.expressions import Expression, ExpressionError, compile_expression
from esb.mapping.models import FieldRule, FieldSpec, XrefRule, as_rule
from esb.mapping.paths import Getter, PathError, SourcePath, getter, parse_path
from esb.mapping.problems import Loc, RuleError


@dataclass
class Compilation:
    """What compiling one mapping needs and gathers."""

    source: str
    target: str
    tables: Mapping[str, Converter]
    broken_tables: frozenset[str] = frozenset()
    problems: list[tuple[Loc, str]] = field(default_factory=list)
    domains: set[str] = field(default_factory=set)
    needs_scope: bool = False


def compile_object(fields: Mapping[str, FieldSpec], loc: Loc, env: Compilation) -> Builder:
    pairs = []
    for key, spec in fields.items():
        compiled = compile_field(as_rule(spec), (*loc, key), env)
        if compiled is not None:
            pairs.append((key, compiled))
    return closures.build_object(tuple(pairs))


def compile_field(rule: FieldRule, loc: Loc, env: Compilation) -> FieldFn | None:
    """The closure for one target field, or None after recording why it cannot be built."""
    try:
        compiled = _value(rule, loc, env)
        if rule.condition is not None:
            compiled = closures.conditional(_expression(rule.condition, ("if",), env), compiled)
    except RuleError as exc:
        env.problems.append(((*loc, *exc.loc), exc.message))
        return None
    return compiled


def _expression(text: str, loc: Loc, env: Compilation) -> Expression:
    try:
        expression = compile_expression(text)
    except ExpressionError as exc:
        raise RuleError(loc, str(exc)) from exc
    env.needs_scope = env.needs_scope or not expression.is_path
    return expression


def _path(text: str, key: str) -> SourcePath:
    try:
        return parse_path(text)
    except PathError as exc:
        raise RuleError((key,), f"bad path {text!r}: {exc}") from exc


def _missing(rule: FieldRule, where: str, absolute: bool) -> closures.Missing:
    default = closures.fresh(rule.default) if rule.has("default") else None
    return closures.missing_value(rule.required, default, where, absolute)


@dataclass(frozen=True)
class Steps:
    """The conversions of one field: plain converters, or one step that needs the context."""

    convert: Converter | None = None
    with_context: closures.ContextStep | None = None
    only_xref: tuple[str, str, str] | None = None  # (domain, from, to) when xref is all


def _value(rule: FieldRule, loc: Loc, env: Compilation) -> FieldFn:
    if rule.each is not None or rule.fields is not None:
        return _structure(rule, loc, env)
    if rule.has("const"):
        return closures.constant(rule.const)
    get, where, absolute, key = _source(rule, env)
    missing = _missing(rule, where, absolute)
    steps = _steps(rule, env)
    if key is not None:
        return _keyed(key, steps, missing)
    if steps.with_context is not None:
        return closures.with_context(get, steps.with_context, missing, where, absolute)
    if steps.convert is not None:
        return closures.converted(get, steps.convert, missing, where, absolute)
    return closures.plain(get, missing)


def _keyed(key: str, steps: Steps, missing: closures.Missing) -> FieldFn:
    """The same closures for a one-key path (most fields), which read the key inline."""
    if steps.only_xref is not None:
        return closures.xref_key(key, *steps.only_xref, missing)
    if steps.with_context is not None:
        return closures.with_context_key(key, steps.with_context, missing)
    if steps.convert is not None:
        return closures.converted_key(key, steps.convert, missing)
    return closures.plain_key(key, missing)


def _source(rule: FieldRule, env: Compilation) -> tuple[Getter, str, bool, str | None]:
    """The reader, the path errors name, whether it reads from the root, and its one key."""
    if rule.expr is not None:
        expression = _expression(rule.expr, ("expr",), env)
        return closures.expression_getter(expression), "", False, None
    assert rule.path is not None  # the model guarantees a source
    path = _path(rule.path, "path")
    key = None if path.from_root else path.key
    return getter(path), path.shown, path.from_root, key


def _structure(rule: FieldRule, loc: Loc, env: Compilation) -> FieldFn:
    assert rule.fields is not None  # the model guarantees fields with each
    build = compile_object(rule.fields, (*loc, "fields"), env)
    text, key = (rule.each, "each") if rule.each is not None else (rule.path, "path")
    if text is None:
        return build  # a nested object of the same record
    path = _path(text, key)
    missing = _missing(rule, path.shown, path.from_root)
    make = closures.repeated if rule.each is not None else closures.nested
    get = getter(path)
    if rule.each is not None and text.strip() == "@":
        get = _one_item(get)
    return make(get, build, missing, path.shown, path.from_root)


def _one_item(get: Getter) -> Getter:
    """``each: "@"``: a list of one item, the current record itself (a flat row whose one
    line is the row, as a bill with one entry made from one staging-table row)."""

    def one(scope: Any, root: Any) -> Any:
        record = get(scope, root)
        return None if record is None else [record]

    return one


def _steps(rule: FieldRule, env: Compilation) -> Steps:
    """Converters in pipeline order: code_table, xref, date or datetime, type."""
    before: list[Converter] = []
    if rule.code_table is not None:
        before.append(_table(rule.code_table, env))
    after: list[Converter] = []
    if rule.date is not None:
        after.append(date_converter(rule.date.source, rule.date.to, rule.date.invalid))
    if rule.datetime is not None:
        d = rule.datetime
        after.append(datetime_converter(d.source, d.to, d.zone, d.to_zone, d.invalid))
    if rule.type is not None:
        after.append(CONVERTERS[rule.type])
    if rule.xref is None:
        return Steps(convert=_chain(before + after) if before or after else None)
    systems = _xref(rule.xref, env)
    lookup = closures.xref_lookup(*systems)
    if not before and not after:
        return Steps(with_context=lookup, only_xref=systems)
    return Steps(with_context=_around(lookup, _chain(before), _chain(after)))


def _chain(converters: list[Converter]) -> Converter | None:
    if not converters:
        return None
    if len(converters) == 1:
        return converters[0]
    steps = tuple(converters)

    def chain(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return chain


def _around(
    lookup: closures.ContextStep, before: Converter | None, after: Converter | None
) -> closures.ContextStep:
    if before is None and after is None:
        return lookup

    def step(value: Any, ctx: MappingContext) -> Any:
        if before is not None:
            value = before(value)
        value = lookup(value, ctx)
        return value if after is None else after(value)

    return step


def _table(name: str, env: Compilation) -> Converter:
    if name in env.tables:
        return env.tables[name]
    if name in env.broken_tables:
        raise RuleError(("code_table",), f"code table {name!r} has errors (reported above)")
    raise RuleError(
        ("code_table",),
        f"unknown code table {name!r}: define it under code_tables: or in code-tables/{name}.yaml",
    )


def _xref(spec: str | XrefRule, env: Compilation) -> tuple[str, str, str]:
    """Domain, from and to system of a lookup; from and to default to the mapping's."""
    if isinstance(spec, str):
        domain, source, target = spec, env.source, env.target
    else:
        domain = spec.domain
        source, target = spec.from_system or env.source, spec.to_system or env.target
    if source == target:
        raise RuleError(("xref",), f"xref from {source} to itself: set from: or to:")
    env.domains.add(domain)
    return domain, source, target
