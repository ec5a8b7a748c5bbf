"""Alerts: tell a chat or ticket system when a target is failing or backed up.

Every ``check`` the health report is evaluated; a target that is ``failing``, whose
backlog is above its ``health.backlog_above``, or where parked deliveries hold later
ones of their business key back (``ordering: key``), gets one notification per kind and
``every`` interval at most — counted in the database, so several processes still
send one. Each notification links to the dashboard.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import aiohttp
import orjson
import structlog
from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.gateway import GatewayConfig
from esb.config.models import AlertsConfig
from esb.errors import StoreUnavailable
from esb.report import build_report
from esb.store.engine import transaction, utcnow
from esb.store.tables import alert_state

log = structlog.get_logger(__name__)


def reasons(row: dict[str, Any], config: GatewayConfig) -> list[str]:
    """Why this report row deserves an alert (empty: it does not)."""
    out = []
    if row["status"] == "failing":
        out.append("failing")
    interface = config.interfaces.get(row["interface"])
    if interface and row["target"] in interface.targets:
        limit = interface.target_health(row["target"]).backlog_above
        if limit is not None and row["pending"] > limit:
            out.append("backlog")
    if row.get("blocked_by_parked"):
        out.append("blocked")
    return out


def blocked_text(row: dict[str, Any]) -> tuple[str, str] | None:
    """How many deliveries wait behind parked ones, in English and Chinese (None: none)."""
    heads = row.get("blocked_by_parked") or []
    if not heads:
        return None
    waiting, top = sum(h["blocked"] for h in heads), heads[0]
    return (
        f"{waiting} deliveries wait behind {len(heads)} parked one(s) of their business key "
        f"(key {top['key']}: {top['blocked']} behind parked delivery {top['delivery_id']}); "
        "replay or discard it to release them",
        f"{waiting} 条投递在 {len(heads)} 条已挂起的同业务键投递之后等待"
        f"(业务键 {top['key']}: {top['blocked']} 条在挂起的投递 {top['delivery_id']} 之后); "
        "重放或丢弃它即可放行",
    )


def _what(row: dict[str, Any], kind: str) -> tuple[str, str]:
    if kind == "failing":
        rate = row["success_rate"]
        return f"is failing (success rate {rate})", f"投递失败(成功率 {rate})"
    if kind == "backlog":
        n = row["pending"]
        return f"has a backlog of {n} deliveries", f"积压 {n} 条投递"
    en, zh = blocked_text(row) or ("", "")
    return f"is held back: {en}", f"被阻塞: {zh}"


def notification(row: dict[str, Any], kind: str, alerts: AlertsConfig) -> dict[str, Any]:
    pair = f"{row['interface']} -> {row['target']}"
    en, zh = _what(row, kind)
    blocked = blocked_text(row) if kind != "blocked" else None
    if blocked is not None:  # a failing or backed-up target says what waits behind parked ones
        en, zh = f"{en}; {blocked[0]}", f"{zh}; {blocked[1]}"
    return {
        "text": f"esb: {pair} {en}. {alerts.dashboard_url}",
        "text_zh": f"esb: {pair} {zh}. {alerts.dashboard_url}",
        "kind": kind,
        "interface": row["interface"],
        "target": row["target"],
        "status": row["status"],
        "success_rate": row["success_rate"],
        "pending": row["pending"],
        "parked": row["parked"],
        "blocked": row.get("blocked", 0),
        "blocked_by_parked": row.get("blocked_by_parked", []),
        "last_error": row["last_error"],
        "dashboard": f"{alerts.dashboard_url}#{row['interface']}/{row['target']}",
    }


async def claim(engine: AsyncEngine, key: str, every_s: float) -> bool:
    """True if this alert may go out now (and records that it did), in any process."""
    now = utcnow()
    async with transaction(engine) as conn:
        moved = await conn.execute(
            update(alert_state)
            .where(
                alert_state.c.key == key,
                alert_state.c.last_sent_at <= now - timedelta(seconds=every_s),
            )
            .values(last_sent_at=now)
        )
        if moved.rowcount:
            return True
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        first = await conn.execute(
            dialect.insert(alert_state).values(key=key, last_sent_at=now).on_conflict_do_nothing()
        )
        return bool(first.rowcount)


class Alerter:
    def __init__(self, engine: AsyncEngine, config: Any) -> None:
        self.engine = engine
        self.config = config  # a callable giving the current GatewayConfig

    async def check(self, session: aiohttp.ClientSession) -> list[dict[str, Any]]:
        config: GatewayConfig = self.config()
        alerts = config.alerts
        if alerts is None:
            return []
        report = await build_report(self.engine, config, f"{alerts.window}s")
        sent = []
        for row in report["interfaces"]:
            for kind in reasons(row, config):
                if await claim(
                    self.engine, f"{row['interface']}/{row['target']}/{kind}", alerts.every
                ):
                    sent.append(await self._post(session, alerts, notification(row, kind, alerts)))
        return sent

    async def _post(
        self, session: aiohttp.ClientSession, alerts: AlertsConfig, body: dict[str, Any]
    ) -> dict[str, Any]:
        headers = {
            "Content-Type": "application/json",
            **{k: v.get_secret_value() for k, v in alerts.headers.items()},
        }
        try:
            async with session.post(
                alerts.webhook,
                data=orjson.dumps(body),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:
                log.warning(
                    "alert sent",
                    kind=body["kind"],
                    interface=body["interface"],
                    target=body["target"],
                    status=response.status,
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.error(
                "alert could not be sent",
                error=repr(exc),
                **{k: body[k] for k in ("kind", "interface", "target")},
            )
        return body

    async def run_forever(self) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                alerts = self.config().alerts
                await asyncio.sleep(alerts.check if alerts else 30.0)
                try:
                    await self.check(session)
                except StoreUnavailable as exc:
                    log.warning("alerts not checked", error=str(exc))
