"""The cross-reference seen from a mapping: one synchronous lookup, and a dict-backed stand-in.

The gateway's real lookup is the database-backed cache in ``esb.xref``; a mapping
only needs ``lookup``, so tests, the benchmark and ``esb mapping test`` use
``StaticXref``, loaded from the same ``masterdata/<domain>.csv`` files (a header
of system names, one row per entity).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

from esb.errors import ConfigError
from esb.xref_csv import restore  # an exported file's neutralised formula cells

Entity = Mapping[str, str]


class XrefLookup(Protocol):
    """The code ``to_system`` uses for ``from_system``'s ``code`` in ``domain``, or None."""

    def lookup(self, domain: str, from_system: str, to_system: str, code: str) -> str | None: ...


class StaticXref:
    """An in-memory cross-reference: ``{domain: [{system: code, ...}, ...]}``."""

    def __init__(self, domains: Mapping[str, Iterable[Entity]] | None = None) -> None:
        self._index: dict[str, dict[tuple[str, str], Entity]] = {}
        for domain, entities in (domains or {}).items():
            for entity in entities:
                self.add(domain, entity)

    def add(self, domain: str, entity: Entity) -> None:
        """Add or replace one entity (all its systems' codes)."""
        index = self._index.setdefault(domain, {})
        for system, code in entity.items():
            if code:
                index[(system, code)] = dict(entity)

    def lookup(self, domain: str, from_system: str, to_system: str, code: str) -> str | None:
        entity = self._index.get(domain, {}).get((from_system, code))
        return (entity.get(to_system) or None) if entity is not None else None

    @classmethod
    def from_masterdata(cls, folder: Path) -> StaticXref:
        """Every ``<domain>.csv`` of ``folder`` (e.g. a configuration's ``masterdata/``)."""
        return cls({p.stem: read_masterdata(p) for p in sorted(folder.glob("*.csv"))})


def parse_masterdata(text: str, *, source: str = "csv") -> list[dict[str, str]]:
    """Rows of a masterdata CSV as ``{system: code}``; ConfigError names file and line."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header = [h.strip() for h in rows[0]] if rows else []
    if not header or not all(header) or len(set(header)) != len(header):
        raise ConfigError([f"{source}:1: the header must name each system once"])
    entities: list[dict[str, str]] = []
    problems: list[str] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(f"{source}:{number}: {len(row)} columns, the header has {len(header)}")
            continue
        entities.append({s: restore(c.strip()) for s, c in zip(header, row, strict=True)})
    if problems:
        raise ConfigError(problems)
    return entities


def read_masterdata(path: Path) -> list[dict[str, str]]:
    return parse_masterdata(path.read_text(encoding="utf-8"), source=str(path))
