"""What a configuration says, as a tree of named values a person can read: a change of
configuration is audited as the difference of two of these (``esb.config.changes``).

Built from the checked models, so every secret is known by its type (``SecretStr``):
it enters the tree as a ``Hidden`` leaf, compared by its value in memory and shown as
``***``. A URL is shown without its password and its query (a robot's key, a database
password); ``api_key_sha256`` is shown as ``***`` too (a key's digest can be guessed at).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretBytes, SecretStr
from pydantic_core import to_jsonable_python

from esb.config.folder import AS_WRITTEN

if TYPE_CHECKING:
    from esb.config.gateway import GatewayConfig

MASK = "***"
#: Fields that are not typed secret but say too much.
SECRET_NAMES = frozenset({"api_key_sha256"})


@dataclass(frozen=True)
class Hidden:
    """A secret in the tree: equal to another when the values are; shown as ``shown``."""

    value: Any = field(repr=False)
    shown: str = MASK


def _text(value: str) -> Any:
    """A URL with a password or a query is shown without them (and compared whole)."""
    if "://" not in value:
        return value
    try:
        url = urlsplit(value)
        password = url.password
        host = url.hostname
        port = url.port
    except ValueError:
        return Hidden(value)
    if password is None and not url.query:
        return value
    netloc = f"[{host}]" if host and ":" in host else (host or "")
    if port is not None:
        netloc += f":{port}"
    if url.username is not None:
        netloc = f"{url.username}{':' + MASK if password is not None else ''}@{netloc}"
    query = f"?{MASK}" if url.query else ""
    fragment = f"#{url.fragment}" if url.fragment else ""
    return Hidden(value, f"{url.scheme}://{netloc}{url.path}{query}{fragment}")


def tree(value: Any) -> Any:
    """``value`` (a model, mapping, list or scalar) as plain data with ``Hidden`` secrets;
    a model's fields by the names written in the files (``schema``, not ``input_schema``)."""
    if isinstance(value, BaseModel):
        out = {}
        for name, info in type(value).model_fields.items():
            inner = getattr(value, name)
            shown = info.alias or name
            out[shown] = Hidden(inner) if name in SECRET_NAMES and inner else tree(inner)
        return out
    if isinstance(value, SecretStr | SecretBytes):
        return Hidden(value.get_secret_value())
    if isinstance(value, dict):
        return {str(k): tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [tree(v) for v in value]
    if isinstance(value, str):
        return _text(value)
    try:
        return to_jsonable_python(value)
    except Exception:  # an odd value of a plugin's model: shown as text
        return str(value)


def shown(value: Any) -> Any:
    """The tree as a person may see it: every ``Hidden`` as its mask."""
    if isinstance(value, Hidden):
        return value.shown
    if isinstance(value, dict):
        return {k: shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shown(v) for v in value]
    return value


def summary(config: GatewayConfig) -> dict[str, Any]:
    """Everything the configuration says, by section (as the files name them)."""
    return {
        "systems": tree(dict(config.systems)),
        "interfaces": tree(dict(config.interfaces)),
        "interfaces_off": sorted(config.switched_off),
        "alerts": tree(config.alerts),
        "masterdata": tree(dict(config.xref_checks)),
        "queries": tree(dict(config.queries)),
        "queries_off": sorted(config.queries_off),
        **_files(config.files.others),
    }


def _files(others: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``mappings/x.yaml`` as ``mappings.x``, ``code-tables/uom.yaml`` as ``code-tables.uom``,
    any other file under ``files`` by its path."""
    sections: dict[str, dict[str, Any]] = {"mappings": {}, "code-tables": {}, "files": {}}
    for path, content in others.items():
        top, _, name = path.partition("/")
        if top in AS_WRITTEN and "/" not in name and name.endswith(".yaml"):
            sections[top][name.removesuffix(".yaml")] = content
        else:
            sections["files"][path] = content
    return sections
