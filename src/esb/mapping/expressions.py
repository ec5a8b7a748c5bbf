"""One safe expression language for conditions and computed values: JMESPath plus our functions.

Expressions are compiled once; a name that is not a function, a wrong number of
arguments or a syntax error is an ``ExpressionError`` at load time, not a
surprise at run time. An expression that is only a path (``OrderNo``,
``Lines[0].Qty``) runs as a plain path getter, without the interpreter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError, LexerError, ParseError
from jmespath.visitor import Options, TreeInterpreter

from esb.errors import MappingError
from esb.mapping.compiled import compile_tree
from esb.mapping.functions import SCOPE, FunctionFailed, MappingFunctions, scope
from esb.mapping.paths import SourcePath, Step, getter

__all__ = ["Expression", "ExpressionError", "compile_expression"]


class ExpressionError(MappingError):
    """An expression that does not compile; the message says what and where."""


class Expression:
    """A compiled expression. ``search(data)`` evaluates it; failures raise ``MappingError``."""

    __slots__ = ("_run", "is_path", "text")

    def __init__(self, text: str, run: Callable[[Any], Any], *, is_path: bool) -> None:
        self.text = text
        self.is_path = is_path
        self._run = run

    def search(self, data: Any) -> Any:
        return self._run(data)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


@cache
def _functions() -> MappingFunctions:
    return MappingFunctions()


@cache
def _interpreter() -> TreeInterpreter:
    return TreeInterpreter(Options(custom_functions=_functions()))


def _describe(exc: JMESPathError) -> str:
    if isinstance(exc, LexerError):
        return f"{exc.message} at character {exc.lexer_position + 1}"
    if isinstance(exc, ParseError):
        if exc.token_type is None or str(exc.token_type).lower() == "eof":
            return "the expression is incomplete"
        return f"unexpected {exc.token_value!r} at character {exc.lex_position + 1}"
    return str(exc).splitlines()[0]


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("children", ()):
        if isinstance(child, dict):
            yield from _nodes(child)


def _check_functions(parsed: dict[str, Any]) -> None:
    table = MappingFunctions.FUNCTION_TABLE
    for node in _nodes(parsed):
        if node["type"] != "function_expression":
            continue
        name, given = node["value"], len(node["children"])
        if name not in table:
            raise ExpressionError(f"unknown function {name}(); see docs/mappings.md for the list")
        signature = table[name]["signature"]
        variadic = bool(signature) and signature[-1].get("variadic", False)
        if given < len(signature) if variadic else given != len(signature):
            least = "at least " if variadic else ""
            raise ExpressionError(
                f"{name}() takes {least}{len(signature)} argument(s), {given} given"
            )


def _plain_steps(node: dict[str, Any]) -> list[Step] | None:
    """The steps of an expression that is only a path, else None."""
    kind, children = node["type"], node.get("children", [])
    if kind == "field":
        return [node["value"]]
    if kind == "current":
        return []
    if kind == "subexpression":
        parts = [_plain_steps(child) for child in children]
        return None if any(p is None for p in parts) else [s for p in parts if p for s in p]
    if kind == "index_expression" and children[1]["type"] == "index":
        left = _plain_steps(children[0])
        return None if left is None else [*left, children[1]["value"]]
    return None


def _tree_runner(text: str, parsed: Any) -> Callable[[Any], Any]:
    """Closures when the tree allows (compiled.py), else the interpreter; same results."""
    interpreter = _interpreter()
    evaluate = compile_tree(parsed, _functions()) or (lambda data: interpreter.visit(parsed, data))

    def run(data: Any) -> Any:
        try:
            if SCOPE.get() is None:
                with scope(data, {}):
                    return evaluate(data)
            return evaluate(data)
        except (JMESPathError, FunctionFailed, ArithmeticError) as exc:
            raise MappingError(f"expression {text!r}: {exc}") from exc

    return run


def compile_expression(text: str) -> Expression:
    """Compile ``text`` once; raise ExpressionError with a one-line reason."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("the expression is empty")
    try:
        parsed: Any = jmespath.compile(text).parsed
    except JMESPathError as exc:
        raise ExpressionError(f"bad expression {text!r}: {_describe(exc)}") from exc
    _check_functions(parsed)
    steps = _plain_steps(parsed)
    if steps is not None:
        read = getter(SourcePath(text=text, steps=tuple(steps)))
        return Expression(text, lambda data: read(data, data), is_path=True)
    return Expression(text, _tree_runner(text, parsed), is_path=False)
