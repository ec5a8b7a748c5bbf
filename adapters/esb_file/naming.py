"""File names from a template such as ``INV-{OrderNo}.json``, safe on any file system.

A name that could leave its folder, or mean something special to Linux or Windows, is
refused rather than rewritten, so two messages never silently share one file:
no path separators, no ``..``, no NUL or control characters, none of ``<>:"|?*``,
no leading dot, no trailing dot or space, no device names (``CON``, ``COM1``...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from esb.sdk import DeliveryRequest, PluginError

__all__ = ["REQUEST_FIELDS", "NameProblem", "Template", "check_name"]

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
FIELD_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$")
FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
DEVICE_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{port}{n}" for port in ("COM", "LPT") for n in "0123456789¹²³"]
)
MAX_NAME_BYTES = 255
REQUEST_FIELDS = ("message_id", "business_key", "target", "interface", "message_type")


class NameProblem(PluginError, ValueError):
    """The template, or a value put into it, cannot give a safe file name."""


def check_name(name: str, what: str = "file name") -> None:
    """Refuse a name that is not one plain file inside its folder, on Linux and Windows."""
    if not name or name in (".", ".."):
        raise NameProblem(f"{what} {name!r} is not a file name")
    if bad := FORBIDDEN.search(name):
        raise NameProblem(f"{what} {name!r} contains {bad.group()!r}")
    if name.startswith(".") or name[-1] in ". ":
        raise NameProblem(f"{what} {name!r} starts with a dot or ends with a dot or space")
    if name.split(".", 1)[0].rstrip(" ").upper() in DEVICE_NAMES:
        raise NameProblem(f"{what} {name!r} is a reserved device name on Windows")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise NameProblem(f"{what} is longer than {MAX_NAME_BYTES} bytes")


def _check_value(field: str, value: str) -> None:
    if not value:
        raise NameProblem(f"filename field {field} is empty")
    if ".." in value:
        raise NameProblem(f"filename field {field} = {value!r} contains '..'")
    if bad := FORBIDDEN.search(value):
        raise NameProblem(f"filename field {field} = {value!r} contains {bad.group()!r}")


def _text(field: str, value: Any) -> str:
    if isinstance(value, str | int | float | Decimal | UUID) and not isinstance(value, bool):
        return str(value)
    kind = "not set" if value is None else f"a {type(value).__name__}, not a text or number"
    raise NameProblem(f"filename field {field} is {kind}")


@dataclass(frozen=True)
class Template:
    """A checked template: literal parts are safe, placeholders are field paths."""

    text: str

    @classmethod
    def parse(cls, text: str) -> Template:
        for field in PLACEHOLDER.findall(text):
            if not FIELD_PATH.match(field):
                raise NameProblem(f"{{{field}}} is not a field name or dotted path")
        literal = PLACEHOLDER.sub("x", text)
        if "{" in literal or "}" in literal:
            raise NameProblem(f"unbalanced brace in {text!r}")
        check_name(literal, "filename template")
        return cls(text)

    def render(self, request: DeliveryRequest) -> str:
        """The file name for ``request``; :class:`NameProblem` if it cannot be made safe."""

        def value(match: re.Match[str]) -> str:
            field = match.group(1)
            text = _text(field, _lookup(request, field))
            _check_value(field, text)
            return text

        name = PLACEHOLDER.sub(value, self.text)
        check_name(name)
        return name


def _lookup(request: DeliveryRequest, field: str) -> Any:
    if field in REQUEST_FIELDS:
        return getattr(request, field)
    value: Any = request.body
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            raise NameProblem(f"filename field {field} is not in the mapped body")
        value = value[part]
    return value
