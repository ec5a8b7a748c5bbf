"""Documents refused at the door, counted per interface, factory day and field.

A refused document is answered 422 naming its field and nothing of it is kept; the
value report still says how many errors were caught before they reached a target. A
counter row per interface, day and field is enough and stays cheap however many
documents are refused: refusals arriving together share one commit (a group commit),
and each adds to its row. The field is the first one the refusal named, with the
positions in repeated groups left out (``Lines[3].Qty`` counts as ``Lines[].Qty``), so
the same mistake on any line adds to one row.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.store.engine import transaction
from esb.store.tables import refusals

_POSITION = re.compile(r"\[\d+\]")
#: The longest field name kept (the column's size); a longer one is cut, never refused.
MAX_FIELD = 200


@dataclass(frozen=True, order=True)
class Refusal:
    """One document refused for ``interface`` on ``day`` (the factory's date)."""

    interface: str
    day: date
    field: str


def field_counted(field: str | None) -> str:
    """The field a refusal is counted under: positions left out, '' for the body itself."""
    return _POSITION.sub("[]", field or "")[:MAX_FIELD]


def _add(conn: AsyncConnection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(refusals)
    return statement.on_conflict_do_update(
        index_elements=["interface", "day", "field"],
        set_={"documents": refusals.c.documents + statement.excluded.documents},
    )


async def count_refusals(engine: AsyncEngine, batch: Sequence[Refusal]) -> list[None]:
    """Add the batch to the counters, one row per interface, day and field, in key order
    (two writers never wait for each other's rows in opposite orders)."""
    counts = Counter(batch)
    rows = [
        {"interface": r.interface, "day": r.day, "field": r.field, "documents": n}
        for r, n in sorted(counts.items())
    ]
    async with transaction(engine) as conn:
        await conn.execute(_add(conn), rows)
    return [None] * len(batch)


async def refused_between(
    conn: AsyncConnection, first: date, last: date
) -> dict[str, Counter[str]]:
    """Per interface, the documents refused from day ``first`` to ``last`` (both
    included), by field."""
    r = refusals.c
    query = (
        select(r.interface, r.field, func.sum(r.documents))
        .where(r.day >= first, r.day <= last)
        .group_by(r.interface, r.field)
    )
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for interface, field, count in await conn.execute(query):
        found[interface][field] += int(count)
    return found
