"""Tools for the people who edit mappings: test against expected output, preview, and
the before-you-deploy diff of an edited mapping against what targets really received."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.gateway import GatewayConfig, Route
from esb.errors import MappingError, NotFound, XrefMissing
from esb.mapping import (
    CompiledMapping,
    MappingContext,
    MappingTestResult,
    StaticXref,
    XrefLookup,
    run_mapping_test,
)
from esb.store.operator import audit_entries
from esb.store.queries import recent_sent

MASTERDATA = "masterdata"


def masterdata_xref(folder: Path) -> StaticXref:
    """Offline master data: the configuration folder's masterdata/*.csv files."""
    return StaticXref.from_masterdata(folder / MASTERDATA)


def _header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            return [h.strip() for h in next(csv.reader(file), [])]
    except (OSError, UnicodeDecodeError):
        return []


def _csv_fix(error: XrefMissing, folder: Path) -> str:
    path = folder / MASTERDATA / f"{error.domain}.csv"
    shown = f"{MASTERDATA}/{path.name}"
    if not path.is_file():
        return f"create {shown} with a header {error.from_system},{error.to_system} and a row"
    missing = [s for s in (error.from_system, error.to_system) if s not in _header(path)]
    if missing:
        return f"add a {' and a '.join(missing)} column to {shown}, and a row"
    return f"add a row to {shown}"


def explain_offline(error: MappingError, folder: Path) -> str:
    """A mapping error as ``esb mapping test`` says it: its master data comes from the
    folder's masterdata/*.csv, so a missing code is added there (not through the API)."""
    if not isinstance(error, XrefMissing):
        return str(error)
    where = f"{error.path}: " if error.path else ""
    return (
        f"{where}xref {error.domain}: no {error.to_system} code for {error.from_system} code "
        f"{error.code!r} in {folder / MASTERDATA}; {_csv_fix(error, folder)} with "
        f"{error.code!r} under {error.from_system} and its {error.to_system} code "
        "(esb mapping test reads master data from these files)"
    )


def routes_using(config: GatewayConfig, mapping: str) -> list[Route]:
    """The routes whose deliveries ``mapping`` makes, or would make: a shadow's mapping (a
    candidate, a new target's) is tried on the deliveries of the live target it runs beside."""
    shadows = {s.route: s.live_route for s in config.shadows if s.mapping == mapping}
    found = [
        (name, target)
        for name, interface in config.interfaces.items()
        for target, spec in interface.targets.items()
        if spec.mapping == mapping and (name, target) not in shadows
    ]
    found += [live for live in shadows.values() if live not in found]
    if not found:
        raise NotFound(f"no interface target uses mapping {mapping!r}")
    return found


@dataclass(frozen=True)
class DiffEntry:
    """One stored message: what its mapping produced, and what the edited mapping produces."""

    message: dict[str, Any]
    result: MappingTestResult  # expected = what the mapping produced, actual = the edit's

    @property
    def changed(self) -> bool:
        return self.compared and not self.result.ok

    @property
    def compared(self) -> bool:
        """False when nothing the mapping produced is known (not attempted yet, or the
        mapping failed then): there is nothing to compare the edit with."""
        return self.message["sent"] is not None

    def describe(self) -> Iterator[str]:
        head = f"{self.message['key'] or self.message['id']} ({self.message['received_at']})"
        if self.message["corrected"]:
            head += " [corrected by an operator: compared with what the mapping produced]"
        if self.result.error is not None:
            yield f"{head}: the edited mapping FAILS: {self.result.error}"
        elif self.message["sent"] is None:
            yield f"{head}: {_nothing_sent(self.message)}"
        elif self.result.ok:
            yield f"{head}: unchanged"
        else:
            yield f"{head}: {len(self.result.differences)} field(s) would change"
            yield from (f"    {d.describe()}" for d in self.result.differences)


def _nothing_sent(message: dict[str, Any]) -> str:
    if message["corrected"]:
        return "the mapping produced nothing for it before the correction; not compared"
    return f"nothing was sent for it yet ({message['status']})"


async def _mapped_before_correction(engine: AsyncEngine, corrected: list[UUID]) -> dict[str, Any]:
    """Per corrected delivery, the body its mapping had produced: the first correction's
    audit entry keeps it (the delivery itself now holds what the operator sent)."""
    found: dict[str, Any] = {}
    for entry in await audit_entries(engine, corrected) if corrected else []:
        if entry["action"] == "correct" and entry["delivery_id"] not in found:
            found[entry["delivery_id"]] = (entry["before"] or {}).get("body")
    return found


async def diff_mapping(
    engine: AsyncEngine, mapping: CompiledMapping, route: Route, xref: XrefLookup, last: int
) -> list[DiffEntry]:
    """Run the edited ``mapping`` on the last ``last`` messages of ``route``."""
    messages = await recent_sent(engine, route[0], route[1], last)
    corrected = [m["delivery_id"] for m in messages if m["corrected"]]
    originals = await _mapped_before_correction(engine, corrected)
    entries = []
    for message in messages:
        if message["corrected"]:
            message = {**message, "sent": originals.get(str(message["delivery_id"]))}
        context = MappingContext(xref=xref, message={"id": message["id"], "key": message["key"]})
        result = run_mapping_test(mapping, message["body"], message["sent"], context)
        entries.append(DiffEntry(message, result))
    return entries
