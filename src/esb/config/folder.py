"""The configuration folder's files as they are on disk: one digest of them all, which
names the configuration (the same files give the same digest on every host, whatever
its environment), and what the audit shows of the files the models do not cover.

Read when the configuration is loaded, so a later reload compares with what was read
then, not with what the files say now. Hidden files (an editor's ``.swp``) and backup
copies (``~``) are not the configuration.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

#: The files the checked models describe (their secrets are known by type).
MODEL_FILES = ("systems.yaml", "interfaces.yaml", "alerts.yaml", "masterdata.yaml", "queries.yaml")
#: Folders whose YAML files are shown as written: mappings and code tables hold no secrets
#: of their own, and their ``${VARS}`` are shown as names, never filled in.
AS_WRITTEN = ("mappings", "code-tables")
NON_STR_KEYS = orjson.OPT_NON_STR_KEYS  # YAML reads ``01:`` as the number 1


@dataclass(frozen=True)
class FolderFiles:
    """``digest``: SHA-256 over every file's name and bytes; ``others``: the files no model
    covers, by path: mappings and code tables as written, JSON (schemas) parsed, anything
    else (a CSV seed, a WSDL) by its own digest."""

    digest: str = ""
    others: dict[str, Any] = field(default_factory=dict)


def _paths(folder: Path) -> list[str]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if not name.startswith(".") and not name.endswith("~"):
                found.append(Path(root, name).relative_to(folder).as_posix())
    return sorted(found)


def _described(path: str) -> bool:
    top, _, rest = path.partition("/")
    one_of_interfaces = top == "interfaces" and "/" not in rest and path.endswith(".yaml")
    return path in MODEL_FILES or one_of_interfaces


def _content(path: str, data: bytes) -> Any:
    """What the audit shows of one file: its parsed content, or its digest."""
    try:
        if path.endswith(".json"):
            return orjson.loads(data)
        if path.split("/", 1)[0] in AS_WRITTEN and path.endswith(".yaml"):
            plain = orjson.dumps(yaml.safe_load(data), default=str, option=NON_STR_KEYS)
            return orjson.loads(plain)
    except (orjson.JSONDecodeError, yaml.YAMLError, TypeError):
        pass  # a broken file: the loader says why; the audit shows that it changed
    return "sha256:" + hashlib.sha256(data).hexdigest()[:16]


def read_folder(folder: Path) -> FolderFiles:
    """The folder's digest and its other files (unreadable ones are skipped: the loader
    reports them)."""
    total = hashlib.sha256()
    others: dict[str, Any] = {}
    for path in _paths(folder):
        try:
            data = (folder / path).read_bytes()
        except OSError:
            continue
        total.update(f"{len(path)}:{path}:{len(data)}:".encode())
        total.update(data)
        if not _described(path):
            others[path] = _content(path, data)
    return FolderFiles(total.hexdigest(), others)
