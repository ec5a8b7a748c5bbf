"""What the store and the pipeline can hold, checked at every door.

A value beyond these limits is refused at the door with 422 naming its field, the
same in both modes, instead of failing later: PostgreSQL cannot hold NUL in text
and checks column lengths (SQLite does neither), the JSON encoder stops at 64-bit
integers and 255 levels of nesting, and a target's parser may stop sooner. HTTP,
SOAP, file rows, operator bodies and query parameters all use these checks.
"""

from __future__ import annotations

from typing import Any

from esb.errors import FieldProblem, ValidationFailed

#: Nesting of a JSON document (objects and arrays); real business documents use < 10.
MAX_DEPTH = 64
#: A system, domain, interface, target or message-type name (the columns' length).
MAX_NAME = 100
#: A business key or a master-data code.
MAX_CODE = 200
#: An ``Idempotency-Key`` header as the caller sends it.
MAX_IDEMPOTENCY_KEY = 200
#: A reason or operator note kept in the audit log.
MAX_REASON = 2000
#: Who did something (an operator's name), as the audit log keeps it.
MAX_OPERATOR = 100
#: An HTTP request's line and headers together (h11's default; httptools has no limit).
MAX_HEADER_BYTES = 16_384

#: The longest window or look-back a report, search or series may span.
MAX_WINDOW_DAYS = 400

#: Integers the pipeline carries exactly (orjson writes signed and unsigned 64-bit).
MIN_INT = -(2**63)
MAX_INT = 2**64 - 1
#: Beyond this a JSON number is no longer a 64-bit quantity (an integer that big arrives
#: as a float, already rounded): refused rather than silently changed.
MAX_NUMBER = float(2**64)

NUL_PROBLEM = "contains a NUL character (\\u0000), which cannot be stored"


def text_problem(value: str, max_length: int | None = None) -> str | None:
    """Why ``value`` cannot be stored as text (None: it can)."""
    if "\x00" in value:
        return NUL_PROBLEM
    if max_length is not None and len(value) > max_length:
        return f"is longer than {max_length} characters ({len(value)})"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains an unpaired surrogate, which is not text"
    return None


def check_text(field: str, value: str, max_length: int | None = None) -> str:
    """``value`` if it can be stored, else 422 naming ``field``."""
    problem = text_problem(value, max_length)
    if problem is not None:
        raise ValidationFailed([FieldProblem(field, problem)])
    return value


def clean_text(value: str) -> str:
    """Text for the store that must never be refused (an error message, a reason the
    gateway writes itself): NUL becomes U+FFFD, lone surrogates are replaced."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def document_problems(body: Any, *, max_problems: int = 20) -> list[FieldProblem]:
    """Every value of a parsed JSON document the pipeline could not hold, by field path.

    Iterative (a deep document must not exhaust the interpreter's stack); stops after
    ``max_problems`` so a hostile body costs bounded work to describe.
    """
    problems: list[FieldProblem] = []
    stack: list[tuple[Any, str, int]] = [(body, "", 1)]
    while stack and len(problems) < max_problems:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                problems.append(FieldProblem(path, NUL_PROBLEM))
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not MIN_INT <= value <= MAX_INT:
                problems.append(FieldProblem(path, "is beyond the 64-bit integer range"))
        elif isinstance(value, float):
            if not MIN_INT <= value < MAX_NUMBER:
                problems.append(FieldProblem(path, "is beyond the 64-bit range; send it as text"))
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                problems.append(FieldProblem(path, f"is nested deeper than {MAX_DEPTH} levels"))
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in items:
                if isinstance(key, str) and "\x00" in key:
                    shown = _join(path, key.replace("\x00", "\\u0000"))
                    problems.append(FieldProblem(shown, f"the name {NUL_PROBLEM}"))
                    continue
                stack.append((child, _join(path, key), depth + 1))
    problems.sort(key=lambda p: p.field)
    return problems


def _holdable(value: Any, depth: int) -> bool:
    """True when ``document_problems`` would find nothing: the same rules in one pass that
    builds no field paths, for the common document (recursion stops at ``MAX_DEPTH``)."""
    kind = type(value)
    if kind is str:
        return "\x00" not in value
    if kind is dict or kind is list:
        if depth > MAX_DEPTH:
            return False
        if kind is dict:
            for key in value:
                if "\x00" in key:
                    return False
            value = value.values()
        for child in value:  # scalars checked here: no call for a flat document's fields
            kind = type(child)
            if kind is str:
                if "\x00" in child:
                    return False
            elif kind is int:
                if not MIN_INT <= child <= MAX_INT:
                    return False
            elif kind is float:
                if not MIN_INT <= child < MAX_NUMBER:
                    return False
            elif child is not None and kind is not bool and not _holdable(child, depth + 1):
                return False
        return True
    if kind is int:
        return bool(MIN_INT <= value <= MAX_INT)
    if kind is float:
        return bool(MIN_INT <= value < MAX_NUMBER)
    return value is None or kind is bool  # anything else (a subclass): the full walk


def check_document(body: Any) -> None:
    """422 naming every field the pipeline could not hold (see ``document_problems``)."""
    if _holdable(body, 1):
        return
    problems = document_problems(body)
    if problems:
        raise ValidationFailed(problems, code="unstorable_value")
