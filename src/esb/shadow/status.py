"""What people see of the parallel runs (``GET /v1/shadow``, the report, ``esb shadow list``,
the dashboard): per shadow, what delivers now, the match rate of today and of each day of
the period, and the fields that differed most. Days are the factory's (``ESB_TIME_ZONE``).

No shadow declared: no query at all.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.gateway import GatewayConfig
from esb.config.shadow import Shadow
from esb.shadow.actions import delivering
from esb.shadow.overlay import apply, matches
from esb.shadow.overlay import stale as stale_promotions
from esb.store.engine import utcnow
from esb.store.shadow import Promotion, promotions
from esb.store.shadow_read import DayCounts, day_counts, top_fields

#: Fields listed per shadow, the most frequent first.
TOP_FIELDS = 5


def factory_day(zone: str, days_back: int = 0) -> str:
    """Today's date in the factory (or ``days_back`` days before), as the records keep it."""
    today: date = utcnow().astimezone(ZoneInfo(zone)).date()
    return (today - timedelta(days=days_back)).isoformat()


def _promotion(shadow: Shadow, found: list[Promotion]) -> dict[str, Any] | None:
    for promotion in found:
        if promotion.promoted and matches(promotion, shadow):
            return {"at": promotion.changed_at.isoformat(), "by": promotion.changed_by}
    return None


def _entry(
    config: GatewayConfig,
    shadow: Shadow,
    days: list[DayCounts],
    today: str,
    fields: dict[str, list[dict[str, Any]]],
    found: list[Promotion],
) -> dict[str, Any]:
    counts = next((d for d in days if d.day == today), DayCounts(today))
    return {
        "interface": shadow.interface,
        "target": shadow.name,
        "kind": shadow.kind,
        "live_target": shadow.live,
        "mapping": shadow.mapping,
        "state": "promoted" if shadow.promoted else "shadow",
        "promoted": _promotion(shadow, found),
        "delivering": delivering(config, shadow, shadow.promoted),
        #: what would deliver after the other action (promote in shadow, else roll back)
        "switch_to": delivering(config, shadow, not shadow.promoted),
        "ignore": list(shadow.masks.paths),
        "test_endpoint": shadow.send is not None,
        "today": {**counts.as_dict(), "fields": fields["today"]},
        "days": [d.as_dict() for d in days],
        "fields": fields["period"],
    }


async def shadow_status(
    engine: AsyncEngine, config: GatewayConfig, zone: str, days: int = 14, *, stale: bool = True
) -> dict[str, Any]:
    """Every declared shadow with its numbers over the last ``days`` factory days (today
    included); with ``stale``, the promotions the files no longer declare."""
    today, since = factory_day(zone), factory_day(zone, days - 1)
    answer: dict[str, Any] = {"day": today, "since": since, "time_zone": zone}
    if not config.shadows:
        old = _stale_ones(config, await promotions(engine)) if stale else []
        return {**answer, "shadows": [], "stale": old}
    routes = [s.route for s in config.shadows]
    counts = await day_counts(engine, routes, since)
    today_fields = await top_fields(engine, routes, today, TOP_FIELDS)
    period_fields = await top_fields(engine, routes, since, TOP_FIELDS)
    found = await promotions(engine)
    entries = [
        _entry(
            config,
            s,
            counts[s.route],
            today,
            {"today": today_fields[s.route], "period": period_fields[s.route]},
            found,
        )
        for s in config.shadows
    ]
    return {**answer, "shadows": entries, "stale": _stale_ones(config, found)}


def _stale_ones(config: GatewayConfig, found: list[Promotion]) -> list[dict[str, Any]]:
    return [_stale(p) for p in stale_promotions(config, found)]


def _stale(promotion: Promotion) -> dict[str, Any]:
    return {
        "interface": promotion.interface,
        "target": promotion.target,
        "kind": promotion.kind,
        "mapping": promotion.mapping,
        "previous": promotion.previous,
        "promoted_at": promotion.changed_at.isoformat(),
        "promoted_by": promotion.changed_by,
    }


def today_only(status: dict[str, Any]) -> list[dict[str, Any]]:
    """The shadows of ``status`` with today's numbers only (the health report's section)."""
    return [
        {k: v for k, v in entry.items() if k not in ("days", "fields")}
        for entry in status["shadows"]
    ]


async def shadows_today(
    engine: AsyncEngine, base: GatewayConfig, zone: str
) -> list[dict[str, Any]]:
    """For a command that read the files itself: the promotions applied, today's numbers."""
    if not base.shadows:
        return []
    config = apply(base, await promotions(engine))
    return today_only(await shadow_status(engine, config, zone, 1, stale=False))
