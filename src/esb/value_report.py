"""The value report: what the integration did for the factory in one month, per interface.

The health report tells operators how the gateway is doing now; this one tells the
factory what it got out of it, month by month (``GET /v1/report/value?period=2026-11``,
the dashboard's value page, its CSV). A month is the factory's (``ESB_TIME_ZONE``);
every figure is defined in docs/api.md and counted in ``esb.store.value`` (from the
deliveries), ``esb.store.value_days`` (the daily rollup) and ``esb.store.refusals``.
Hours saved are an estimate from the interface's own ``minutes_per_document``: an
interface without that figure has none (``null``), not 0.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.gateway import GatewayConfig
from esb.store.value import Figures, day_start
from esb.store.value_days import figures_between

__all__ = ["Month", "build_value_report", "median", "parse_period"]

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
#: The refused fields listed per interface (most refused first).
FIELDS_LISTED = 10


@dataclass(frozen=True)
class Month:
    """One calendar month of the factory."""

    year: int
    month: int

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        following = date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return following - timedelta(days=1)


def parse_period(text: str | None, today: date) -> Month:
    """``YYYY-MM``, or this month when none is given; ValueError says what is wrong."""
    if text is None:
        return Month(today.year, today.month)
    match = _PERIOD.match(text.strip())
    if match is None:
        raise ValueError("a month written YYYY-MM, e.g. 2026-11")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} does not exist: 01 to 12")
    if not 2000 <= year <= 9998:
        raise ValueError("a year from 2000 to 9998")
    return Month(year, month)


def median(histogram: Counter[int]) -> float | None:
    """The median of the histogram's values (PostgreSQL's ``percentile_cont(0.5)``: the
    mean of the two middle values when their number is even); None when it is empty."""
    total = sum(histogram.values())
    if total == 0:
        return None
    wanted = {(total - 1) // 2, total // 2}
    found: list[int] = []
    seen = 0
    for value, n in sorted(histogram.items()):
        found += [value for rank in wanted if seen <= rank < seen + n]
        seen += n
    return sum(found) / len(found)


def _hours(moved: int, minutes: float | None) -> float | None:
    return None if minutes is None else round(moved * minutes / 60.0, 2)


def _row(
    name: str, figures: Figures, refused: Counter[str], config: GatewayConfig
) -> dict[str, Any]:
    spec = config.interfaces.get(name)
    minutes = spec.minutes_per_document if spec is not None else None
    return {
        "interface": name,
        "description": spec.description if spec is not None else "",
        "moved": figures.moved,
        "refused": sum(refused.values()),
        "refused_fields": [
            {"field": f, "documents": n}
            for f, n in sorted(refused.items(), key=lambda item: (-item[1], item[0]))[
                :FIELDS_LISTED
            ]
        ],
        "fixed": figures.fixed,
        "retried": figures.retried,
        "median_end_to_end_ms": median(figures.latency),
        "minutes_per_document": minutes,
        "hours_saved": _hours(figures.moved, minutes),
    }


def _total(rows: list[dict[str, Any]], everything: Figures) -> dict[str, Any]:
    hours = [r["hours_saved"] for r in rows if r["hours_saved"] is not None]
    return {
        "moved": everything.moved,
        "refused": sum(r["refused"] for r in rows),
        "fixed": everything.fixed,
        "retried": everything.retried,
        "median_end_to_end_ms": median(everything.latency),
        "hours_saved": round(sum(hours), 2) if hours else None,
    }


async def build_value_report(
    engine: AsyncEngine, config: GatewayConfig, time_zone: str, month: Month, now: datetime
) -> dict[str, Any]:
    """Every configured interface (and any other the month's records name), and the total."""
    zone = ZoneInfo(time_zone)
    figures, refused = await figures_between(engine, zone, month.first, month.last)
    names = sorted(set(config.interfaces) | set(figures) | set(refused))
    rows = [_row(n, figures.get(n, Figures()), refused.get(n, Counter()), config) for n in names]
    everything = Figures()
    for found in figures.values():
        everything.add(found)
    until = day_start(month.last + timedelta(days=1), zone)
    return {
        "period": month.label,
        "time_zone": time_zone,
        "from": day_start(month.first, zone).isoformat(),
        "to": until.isoformat(),
        "complete": now >= until,
        "interfaces": rows,
        "total": _total(rows, everything),
    }
