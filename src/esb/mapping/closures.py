"""The closures a mapping is made of. Each is small and does only what its rule asks.

A field closure takes ``(scope, root, ctx)``: the current source record, the
whole body, and the mapping context. It returns the value, or ``OMIT`` to leave
the field out. Paths of failures are added only when a ``Fault`` passes by.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from esb.errors import MappingError
from esb.mapping.codetables import code_of
from esb.mapping.engine import Builder, MappingContext
from esb.mapping.expressions import Expression
from esb.mapping.faults import Fault, XrefFault, show
from esb.mapping.functions import truthy
from esb.mapping.paths import Getter


class _Omit:
    __slots__ = ()

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()

FieldFn = Builder
Converter = Callable[[Any], Any]
ContextStep = Callable[[Any, MappingContext], Any]
Missing = Callable[[], Any]


def fresh(value: Any) -> Callable[[], Any]:
    """A producer of ``value``; lists and objects are copied so no two outputs share one."""
    if isinstance(value, dict | list):
        return lambda: copy.deepcopy(value)
    return lambda: value


def missing_value(
    required: bool, default: Callable[[], Any] | None, where: str, absolute: bool
) -> Missing:
    if required:

        def fail() -> Any:
            raise Fault("required value is missing").at(where, absolute=absolute)

        return fail
    return default if default is not None else (lambda: OMIT)


def plain(get: Getter, missing: Missing) -> FieldFn:
    def field(scope: Any, root: Any, ctx: MappingContext) -> Any:
        value = get(scope, root)
        return missing() if value is None else value

    return field


def plain_key(key: str, missing: Missing) -> FieldFn:
    """``plain`` for a one-key path, read inline: most fields of most mappings."""

    def field(scope: Any, root: Any, ctx: MappingContext) -> Any:
        try:
            value = scope.get(key)
        except AttributeError:
            return missing()
        return missing() if value is None else value

    return field


def converted(
    get: Getter, convert: Converter, missing: Missing, where: str, absolute: bool
) -> FieldFn:
    def field(scope: Any, root: Any, ctx: MappingContext) -> Any:
        value = get(scope, root)
        if value is None:
            return missing()
        try:
            return convert(value)
        except Fault as fault:
            fault.at(where, absolute=absolute)
            raise

    return field


def converted_key(key: str, convert: Converter, missing: Missing) -> FieldFn:
    def field(scope: Any, root: Any, ctx: MappingContext) -> Any:
        try:
            value = scope.get(key)
        except AttributeError:
            return missing()
        if value is None:
            return missing()
        try:
            return convert(value)
        except Fault as fault:
            fault.at(key)
            raise

    return field


def with_context(
    get: Getter, step: ContextStep, missing: Missing, where: str, absolute: bool
) -> FieldFn:
    def field(scope: Any, root: Any, ctx: MappingContext) -> Any:
        value = get(scope, root)
        if value is None:
            return missing()
        try:
            return step(value, ctx)
        except Fault as fault:
            fault.at(where, absolute=absolute)
            raise

    return field


def with_context_key(key: str, step: ContextStep, missing: Missing) -> FieldFn:
    def field(scope: Any, root: Any, ctx: MappingContext) -> Any:
        try:
            value = scope.get(key)
        except AttributeError:
            return missing()
        if value is None:
            return missing()
        try:
            return step(value, ctx)
        except Fault as fault:
            fault.at(key)
            raise

    return field


def xref_lookup(domain: str, source: str, target: str) -> ContextStep:
    """The code ``target`` uses for ``source``'s code; no entry is an ``XrefFault``."""

    def lookup(value: Any, ctx: MappingContext) -> Any:
        code = value if type(value) is str else code_of(value)
        if code is None:
            raise Fault(f"xref {domain}: a code is text, not {show(value)}")
        found = ctx.xref.lookup(domain, source, target, code)
        if found is None:
            raise XrefFault(domain, source, target, code)
        return found

    return lookup


def xref_key(key: str, domain: str, source: str, target: str, missing: Missing) -> FieldFn:
    """``{path: Code, xref: domain}``, the most common rule of all, as one closure."""

    def field(scope: Any, root: Any, ctx: MappingContext) -> Any:
        try:
            value = scope.get(key)
        except AttributeError:
            return missing()
        if value is None:
            return missing()
        code = value if type(value) is str else code_of(value)
        if code is None:
            raise Fault(f"xref {domain}: a code is text, not {show(value)}").at(key)
        found = ctx.xref.lookup(domain, source, target, code)
        if found is None:
            raise XrefFault(domain, source, target, code).at(key)
        return found

    return field


def constant(value: Any) -> FieldFn:
    if isinstance(value, dict | list):
        make = fresh(value)
        return lambda scope, root, ctx: make()
    return lambda scope, root, ctx: value


def conditional(condition: Expression, inner: FieldFn) -> FieldFn:
    search = condition.search

    def field(scope: Any, root: Any, ctx: MappingContext) -> Any:
        try:
            keep = truthy(search(scope))
        except MappingError as exc:
            raise Fault(f"if: {exc}") from None
        return inner(scope, root, ctx) if keep else OMIT

    return field


def expression_getter(expression: Expression) -> Getter:
    search = expression.search

    def get(scope: Any, root: Any) -> Any:
        try:
            return search(scope)
        except MappingError as exc:
            raise Fault(str(exc)) from None

    return get


def build_object(pairs: tuple[tuple[str, FieldFn], ...]) -> Builder:
    """One output object; keys keep the order of the mapping file."""

    def build(scope: Any, root: Any, ctx: MappingContext) -> dict[str, Any]:
        out = {}
        for key, field in pairs:
            value = field(scope, root, ctx)
            if value is not OMIT:
                out[key] = value
        return out

    return build


def nested(get: Getter, build: Builder, missing: Missing, where: str, absolute: bool) -> FieldFn:
    """An object built from the source object at a path."""

    def field(scope: Any, root: Any, ctx: MappingContext) -> Any:
        record = get(scope, root)
        if record is None:
            return missing()
        try:
            if not isinstance(record, dict):
                raise Fault(f"expected an object, got {show(record)}")
            return build(record, root, ctx)
        except Fault as fault:
            fault.at(where, absolute=absolute)
            raise

    return field


def repeated(get: Getter, build: Builder, missing: Missing, where: str, absolute: bool) -> FieldFn:
    """One output item per source item; a failing item is named by its index."""

    def field(scope: Any, root: Any, ctx: MappingContext) -> Any:
        items = get(scope, root)
        if items is None:
            return missing()
        if not isinstance(items, list):
            raise Fault(f"expected a list, got {show(items)}").at(where, absolute=absolute)
        out: list[Any] = []
        append = out.append
        for item in items:
            try:
                append(build(item, root, ctx))
            except Fault as fault:
                fault.at(f"{where}[{len(out)}]", absolute=absolute)
                raise
        return out

    return field
