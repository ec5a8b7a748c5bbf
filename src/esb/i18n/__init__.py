"""The words people read, in Chinese and English: one catalogue per language.

The dashboard fetches the same JSON files (``/dashboard/i18n/zh.json``); the CLI and the
chat alerts read them here. A key missing from a catalogue shows as ``⟦key⟧`` rather than
failing, and a unit test keeps both catalogues holding the same keys.
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from typing import Literal, cast

import orjson

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")


@cache
def catalogue(lang: Language) -> dict[str, str | dict[str, str]]:
    """One language's words by key (read once)."""
    raw = resources.files("esb.i18n").joinpath(f"{lang}.json").read_bytes()
    return cast(dict[str, str | dict[str, str]], orjson.loads(raw))


def choose_language(explicit: str | None = None) -> Language:
    """``--lang`` if given, else ``ESB_LANG``, else the locale (``LANG=zh_CN.UTF-8``: zh),
    else Chinese: the people this is for read Chinese first."""
    for candidate in (explicit, os.environ.get("ESB_LANG"), _locale_language()):
        if candidate:
            code = candidate.lower().replace("_", "-").split("-")[0]
            if code in LANGUAGES:
                return code
            if candidate is explicit:
                raise ValueError(f"unknown language {explicit!r}: use zh or en")
    return "zh"


def _locale_language() -> str | None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return value
    return None


def text(key: str, lang: Language, /, **params: object) -> str:
    """The words for ``key`` in ``lang`` with ``{name}`` filled from ``params``; a value
    with ``one``/``other`` forms is chosen by ``params["count"]`` (English plurals)."""
    found = catalogue(lang).get(key)
    if isinstance(found, dict):
        form = "one" if params.get("count") == 1 and "one" in found else "other"
        found = found.get(form)
    if found is None:
        return f"⟦{key}⟧"
    try:
        return found.format(**params)
    except (KeyError, IndexError, ValueError):
        return found
