"""Pydantic's validation errors in plain words, for the people who edit the files.

``Input tag 'rets' found using 'kind' does not match any of the expected tags`` or
``Value error, ...`` is the library talking to a programmer; a person editing a YAML
file (or setting an ESB_* variable) wants to read what is wrong and what to write
instead: ``unknown kind 'rets': did you mean 'rest'?``. Values that came from the
environment may be secrets, so no message repeats the value it refuses (a kind or a
key name is written literally in the file and is safe to repeat).
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag
from pydantic_core import ErrorDetails

from esb.configfile.models import NAME_PATTERN

#: Patterns of the models, said in words.
PATTERNS = {
    NAME_PATTERN: "must be a name: letters, digits, _ . - (starting with a letter or digit)",
    "^https?://": "must start with http:// or https://",
}

_SIMPLE = {
    "missing": "missing (required)",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text (put it in quotes)",
    "dict_type": "must be a mapping (key: value lines)",
    "model_type": "must be a mapping (key: value lines)",
    "model_attributes_type": "must be a mapping (key: value lines)",
    "list_type": "must be a list ([a, b] or lines starting with -)",
    "url_parsing": "must be a URL",
    "url_scheme": "must be a URL",
}

_BOUNDS = {
    "greater_than_equal": ("ge", "must be at least {}"),
    "greater_than": ("gt", "must be more than {}"),
    "less_than_equal": ("le", "must be at most {}"),
    "less_than": ("lt", "must be less than {}"),
    "string_too_short": ("min_length", "must have at least {} characters"),
    "string_too_long": ("max_length", "must have at most {} characters"),
    "too_short": ("min_length", "needs at least {} entries"),
    "too_long": ("max_length", "may have at most {} entries"),
}
_ONE = {
    "string_too_short": "must not be empty",
    "too_short": "needs at least one entry",
    "too_long": "may have only one entry",
}


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known word a typo most likely meant (``rets`` -> ``rest``), or None."""
    found = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return found[0] if found else None


def quoted(words: Iterable[str]) -> str:
    return ", ".join(sorted(words))


def _tags(text: str) -> list[str]:
    """``"'rest', 'soap'"`` (pydantic's ctx) -> ``["rest", "soap"]``."""
    return [part.strip().strip("'") for part in text.split(",") if part.strip()]


def unknown_tag(error: ErrorDetails) -> tuple[str, str, list[str]]:
    """(discriminator, the tag written, the tags known) of a ``union_tag_invalid``."""
    ctx = error.get("ctx") or {}
    return (
        str(ctx.get("discriminator", "kind")).strip("'"),
        str(ctx.get("tag", "")),
        _tags(str(ctx.get("expected_tags", ""))),
    )


def _tag_message(error: ErrorDetails) -> str:
    key, tag, known = unknown_tag(error)
    guess = closest(tag, known)
    hint = f"did you mean {guess!r}? " if guess else ""
    return f"unknown {key} {tag!r}: {hint}(known: {quoted(known)})"


def _strip(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _options(annotation: Any) -> list[tuple[Any, set[str]]]:
    """A union's members, each with the tags pydantic may put in an error's path for it
    (its ``kind``/``type`` literal, an explicit ``Tag``, its class name)."""
    args = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else ()
    options = []
    for arg in [a for a in args if a is not type(None)] or [annotation]:
        tags = {m.tag for m in get_args(arg)[1:] if isinstance(m, Tag)}
        member = _strip(arg)
        if isinstance(member, type) and issubclass(member, BaseModel):
            tags |= _tag_of(member)
        options.append((member, tags))
    return options


def _field(model: type[BaseModel], key: Any) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return _strip(info.annotation)
    return None


def _tag_of(model: type[BaseModel]) -> set[str]:
    tags = {model.__name__}
    for name in ("kind", "type"):
        info = model.model_fields.get(name)
        if info is not None:
            tags.update(str(a) for a in get_args(info.annotation))
    return tags


def _step(annotation: Any, key: Any) -> tuple[Any, bool]:
    """The annotation one step down ``key``; True when ``key`` was a union tag (consumed)."""
    options = _options(_strip(annotation))
    if len(options) > 1:
        return next((m for m, tags in options if key in tags), None), True
    only = options[0][0]
    if isinstance(only, type) and issubclass(only, BaseModel):
        return _field(only, key), False
    origin, args = get_origin(only), get_args(only)
    if origin is dict and len(args) == 2:
        return _strip(args[1]), False
    if origin in (list, tuple) and args and isinstance(key, int):
        return _strip(args[0]), False
    return None, False


def allowed_keys(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """The keys the model accepts at ``loc`` (pydantic's path, union tags included)."""
    annotation: Any = model
    for key in loc:
        annotation, _ = _step(annotation, key)
        if annotation is None:
            return []
    found = [m for m, _ in _options(_strip(annotation)) if isinstance(m, type)]
    if len(found) == 1 and issubclass(found[0], BaseModel):
        return [info.alias or name for name, info in found[0].model_fields.items()]
    return []


def _extra_message(error: ErrorDetails, model: type[BaseModel] | None) -> str:
    key = str(error["loc"][-1]) if error["loc"] else ""
    known = allowed_keys(model, error["loc"][:-1]) if model is not None else []
    guess = closest(key, known)
    if guess:
        return f"unknown key {key!r}: did you mean {guess!r}?"
    if known:
        return f"unknown key {key!r} (allowed here: {quoted(known)})"
    return f"unknown key {key!r}"


def plain_message(error: ErrorDetails, model: type[BaseModel] | None = None) -> str:
    """One pydantic error as a person reads it; ``model`` lets an unknown key be matched."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if kind == "extra_forbidden":
        return _extra_message(error, model)
    if kind == "union_tag_invalid":
        return _tag_message(error)
    if kind == "union_tag_not_found":
        return f"{str(ctx.get('discriminator', 'kind')).strip(chr(39))} is missing"
    if kind in _BOUNDS:
        name, text = _BOUNDS[kind]
        return _ONE[kind] if ctx.get(name) == 1 and kind in _ONE else text.format(ctx.get(name))
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return PATTERNS.get(pattern, f"must match the pattern {pattern}")
    if kind in ("literal_error", "enum"):
        return f"must be {ctx.get('expected')}"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message.replace("Input should be", "must be")
