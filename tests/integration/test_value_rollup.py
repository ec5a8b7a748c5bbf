"""The value report's daily rollup, on SQLite and PostgreSQL: a month's figures are the
same counted from the deliveries, rolled up to the middle of a day, or rolled up whole;
months are the factory's (a delivery at 00:05 in Shanghai on 1 November is November's);
a change of time zone starts the rollup over."""

from __future__ import annotations

import statistics
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.gateway import GatewayConfig
from esb.ids import uuid7
from esb.settings import Settings
from esb.status import DeliveryStatus
from esb.store.engine import create_engine, transaction
from esb.store.migrate import ensure_schema
from esb.store.refusals import Refusal, count_refusals
from esb.store.tables import audit_log, deliveries, messages, value_days
from esb.store.value import bucket
from esb.store.value_days import roll_up
from esb.value_report import Month, build_value_report

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Sent:
    """One delivery of a message: when it landed (None: parked), after how many attempts,
    whether an operator replayed it, and the message's accepted -> delivered time."""

    landed: datetime | None
    attempts: int = 1
    replayed: bool = False
    ms: float = 100.0


def at(text: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)


#: Each message's deliveries (interface "orders" unless named).
SEEN: list[tuple[str, list[Sent]]] = [
    ("orders", [Sent(at("2026-10-01 00:10"), ms=12.25)]),  # 30 September in UTC
    ("orders", [Sent(at("2026-10-31 23:50"), ms=999.9)]),
    ("orders", [Sent(at("2026-11-01 00:05"), ms=1234.5)]),  # 31 October in UTC
    ("orders", [Sent(at("2026-10-15 10:00"), ms=50), Sent(at("2026-10-16 09:00"), ms=82_800_123)]),
    ("orders", [Sent(at("2026-10-20 08:00"), attempts=2), Sent(None, attempts=1)]),
    ("orders", [Sent(at("2026-09-30 23:00"), attempts=3), Sent(at("2026-10-02 01:00"), ms=64_321)]),
    ("orders", [Sent(at("2026-10-10 14:00"), attempts=2, replayed=True, ms=3_600_000.5)]),
    ("orders", [Sent(at("2026-10-11 14:00"), attempts=3, ms=700.75)]),
    ("orders", [Sent(at("2026-10-16 11:59"), attempts=2, ms=10_001)]),
    ("orders", [Sent(at("2026-10-16 12:01"), attempts=2, replayed=True, ms=333)]),
    *[("orders", [Sent(at(f"2026-10-{day:02d} 09:30"), ms=day * 37.5)]) for day in range(3, 29)],
    ("shipments", [Sent(at("2026-10-05 12:00"), ms=45.5), Sent(at("2026-10-05 12:00"))]),
    ("shipments", [Sent(at("2026-10-06 12:00"), attempts=4, replayed=True, ms=5)]),
]


def expected(zone: ZoneInfo, first: date, last: date) -> dict[str, dict[str, Any]]:
    """Each interface's figures by the report's definitions, computed from SEEN alone."""
    found: dict[str, dict[str, Any]] = {}

    def within(when: datetime | None) -> bool:
        return when is not None and first <= when.astimezone(zone).date() <= last

    for interface, sent in SEEN:
        row = found.setdefault(interface, {"moved": 0, "fixed": 0, "retried": 0, "times": []})
        landed = [s.landed for s in sent]
        if None not in landed and within(max(landed)):  # type: ignore[type-var]
            row["moved"] += 1
            row["times"].append(bucket(max(s.ms for s in sent)))
        for s in sent:
            if within(s.landed) and s.attempts > 1:
                row["fixed" if s.replayed else "retried"] += 1
    return found


async def seed(engine: AsyncEngine) -> None:
    async with transaction(engine) as conn:
        for n, (interface, sent) in enumerate(SEEN):
            message_id = uuid7()
            accepted = min(s.landed or at("2026-10-20 08:00") for s in sent) - timedelta(hours=1)
            await conn.execute(
                messages.insert().values(
                    id=message_id, interface=interface, message_type=interface,
                    source_system="erp", business_key=f"K{n}", idempotency_key=f"k{n}",
                    content_type="application/json", body="{}", received_at=accepted,
                )
            )  # fmt: skip
            for m, s in enumerate(sent):
                delivery_id = uuid7()
                await conn.execute(
                    deliveries.insert().values(
                        id=delivery_id, message_id=message_id, interface=interface,
                        target=f"t{m}", attempts=s.attempts, round_attempts=1,
                        status=DeliveryStatus.DELIVERED if s.landed else DeliveryStatus.PARKED,
                        created_at=accepted, updated_at=s.landed or accepted,
                        delivered_at=s.landed, end_to_end_ms=s.ms if s.landed else None,
                    )
                )  # fmt: skip
                if s.replayed:
                    await conn.execute(
                        audit_log.insert().values(
                            at=accepted, actor="admin:test", action="replay",
                            delivery_id=delivery_id, reason="fixed",
                        )
                    )  # fmt: skip


@pytest.fixture
async def engine(mode_settings: dict[str, Any]) -> AsyncIterator[AsyncEngine]:
    settings = Settings(**mode_settings)
    engine = create_engine(settings)
    await ensure_schema(engine, settings.effective_database_url, auto=True)
    await seed(engine)
    yield engine
    await engine.dispose()


async def figures(engine: AsyncEngine, zone: str, month: Month) -> dict[str, dict[str, Any]]:
    report = await build_value_report(engine, EMPTY, zone, month, datetime.now(UTC))
    return {
        row["interface"]: {k: row[k] for k in ("moved", "fixed", "retried", "median_end_to_end_ms")}
        for row in report["interfaces"]
    }


def wanted(zone: ZoneInfo, month: Month) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "moved": row["moved"], "fixed": row["fixed"], "retried": row["retried"],
            "median_end_to_end_ms": statistics.median(row["times"]) if row["times"] else None,
        }
        for name, row in expected(zone, month.first, month.last).items()
        if row["moved"] or row["fixed"] or row["retried"]  # the report names nothing else
    }  # fmt: skip


EMPTY = GatewayConfig(folder=Path("."), systems={}, interfaces={}, key_hashes={})
OCTOBER, NOVEMBER, SEPTEMBER = Month(2026, 10), Month(2026, 11), Month(2026, 9)


async def test_the_same_figures_live_half_rolled_and_rolled(engine: AsyncEngine) -> None:
    zone = "Asia/Shanghai"
    months = (SEPTEMBER, OCTOBER, NOVEMBER)
    live = {m: await figures(engine, zone, m) for m in months}
    for month in months:
        assert live[month] == wanted(SHANGHAI, month), month
    assert live[OCTOBER]["orders"]["moved"] == 34  # the month's edges: see SEEN
    assert live[NOVEMBER]["orders"]["moved"] == 1

    rolled = await roll_up(engine, SHANGHAI, at("2026-10-16 12:00"))
    assert rolled == 17  # 30 September (the first delivery's day) to 16 October, noon
    assert {m: await figures(engine, zone, m) for m in months} == live
    async with transaction(engine) as conn:
        days = await conn.scalar(select(func.count()).select_from(value_days))
    assert days is not None
    assert days > 0

    assert await roll_up(engine, SHANGHAI, at("2026-12-01 00:00")) == 46
    assert await roll_up(engine, SHANGHAI, at("2026-12-01 00:00")) == 0  # nothing left
    assert {m: await figures(engine, zone, m) for m in months} == live


async def test_another_time_zone_starts_the_rollup_over(engine: AsyncEngine) -> None:
    await roll_up(engine, SHANGHAI, at("2026-12-01 00:00"))
    utc = ZoneInfo("UTC")
    before = {m: await figures(engine, "UTC", m) for m in (SEPTEMBER, OCTOBER, NOVEMBER)}
    await roll_up(engine, utc, at("2026-12-01 00:00"))
    after = {m: await figures(engine, "UTC", m) for m in (SEPTEMBER, OCTOBER, NOVEMBER)}
    assert before == after
    for month in (SEPTEMBER, OCTOBER, NOVEMBER):
        assert after[month] == wanted(utc, month), month
    assert after[NOVEMBER] == {}  # 00:05 in Shanghai on 1 November is October in UTC


async def test_refusals_add_up_per_day_and_field(engine: AsyncEngine) -> None:
    first, last = date(2026, 10, 31), date(2026, 11, 1)
    batch = [Refusal("orders", first, "Qty"), Refusal("orders", last, "Qty")]
    await count_refusals(engine, batch)
    await count_refusals(engine, [*batch, Refusal("orders", last, "")])
    report = await build_value_report(engine, EMPTY, "Asia/Shanghai", NOVEMBER, datetime.now(UTC))
    [row] = [r for r in report["interfaces"] if r["interface"] == "orders"]
    assert row["refused"] == 3
    assert row["refused_fields"] == [
        {"field": "Qty", "documents": 2},
        {"field": "", "documents": 1},
    ]
    assert report["total"]["refused"] == 3
