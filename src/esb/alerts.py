"""Alerts: tell a chat or ticket system when a target is failing or backed up.

Every ``check`` the health report is evaluated; a target that is ``failing``, whose
backlog is above its ``health.backlog_above``, or where parked deliveries hold later
ones of their business key back (``ordering: key``), gets one notification per kind and
``every`` interval at most — counted in the database, so several processes still
send one. Each notification links to the dashboard. A circuit breaker that opens or
closes (flow control, ``flow_events``) is an event: each is sent once, in Chinese and
English, whichever process records or sends it. A failing target that recovers (no
longer ``failing``) gets a recovery message.

Chat robots (``channels``: WeCom, DingTalk) get the same alerts as markdown, through a
queue in the database: each robot takes at most its limit (20 a minute) from all
processes together, so a burst is folded into one digest naming every interface and
target concerned, and nothing is dropped: an alert leaves the queue only once a robot
accepted the message that carried it (see ``esb.store.alert_queue``).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import aiohttp
import orjson
import structlog
from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from esb import alert_text
from esb.alert_robots import send
from esb.config.gateway import GatewayConfig
from esb.config.models import AlertsConfig, ChatChannel
from esb.errors import StoreUnavailable
from esb.i18n import Language, text
from esb.report import build_report
from esb.store import alert_queue
from esb.store.engine import transaction, utcnow
from esb.store.flow_read import recent_events
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


def _both(name: str, /, **params: object) -> tuple[str, str]:
    """``alert.<name>`` in English and Chinese (a webhook's body carries both)."""
    return text(f"alert.{name}", "en", **params), text(f"alert.{name}", "zh", **params)


def blocked_text(row: dict[str, Any]) -> tuple[str, str] | None:
    """How many deliveries wait behind parked ones, in English and Chinese (None: none)."""
    heads = row.get("blocked_by_parked") or []
    if not heads:
        return None
    top = heads[0]
    return _both(
        "webhook.blocked_behind",
        waiting=sum(h["blocked"] for h in heads),
        heads=len(heads),
        key=top["key"],
        blocked=top["blocked"],
        delivery=top["delivery_id"],
    )


def _what(row: dict[str, Any], kind: str) -> tuple[str, str]:
    if kind == "failing":
        return _both("webhook.failing", rate=row["success_rate"])
    if kind == "backlog":
        return _both("webhook.backlog", count=row["pending"])
    en, zh = blocked_text(row) or ("", "")
    return text("alert.webhook.held_back", "en", why=en), text(
        "alert.webhook.held_back", "zh", why=zh
    )


def notification(row: dict[str, Any], kind: str, alerts: AlertsConfig) -> dict[str, Any]:
    pair = f"{row['interface']} -> {row['target']}"
    en, zh = _what(row, kind)
    blocked = blocked_text(row) if kind != "blocked" else None
    if blocked is not None:  # a failing or backed-up target says what waits behind parked ones
        en, zh = f"{en}; {blocked[0]}", f"{zh}; {blocked[1]}"
    return {
        "text": f"esb: {pair} {en}. {alerts.dashboard_url}",
        "text_zh": f"esb: {pair} {zh}. {alerts.dashboard_url}",
        "at": utcnow().isoformat(),
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


def recovery(row: dict[str, Any], alerts: AlertsConfig) -> dict[str, Any]:
    """A target that was alerted ``failing`` is not any more."""
    pair, status = f"{row['interface']} -> {row['target']}", row["status"]
    en, zh = _both("webhook.recovered", status=status)
    return {
        "text": f"esb: {pair} {en}. {alerts.dashboard_url}",
        "text_zh": f"esb: {pair} {zh}. {alerts.dashboard_url}",
        "at": utcnow().isoformat(),
        "kind": "recovered",
        "interface": row["interface"],
        "target": row["target"],
        "status": status,
        "success_rate": row["success_rate"],
        "pending": row["pending"],
        "parked": row["parked"],
        "blocked": row.get("blocked", 0),
        "last_error": None,
        "dashboard": f"{alerts.dashboard_url}#{row['interface']}/{row['target']}",
    }


#: A flow event older than this when first seen is not sent any more (a gateway that was
#: stopped for days does not replay history).
EVENT_HORIZON_S = 24 * 3600.0
#: An event is sent once: its claim never expires (in practice).
ONCE_S = 100 * 365 * 86400.0


def _event_text(event: Any, why: dict[str, str], lang: Language) -> str:
    return text(f"alert.event.{event.event}", lang, system=event.system, why=why[lang])


def event_notification(event: Any, alerts: AlertsConfig) -> dict[str, Any]:
    """One breaker event as a webhook body: the text in Chinese, then English."""
    why = orjson.loads(event.detail) if event.detail else {"en": "", "zh": ""}
    text_zh, text_en = _event_text(event, why, "zh"), _event_text(event, why, "en")
    return {
        "text": f"esb: {text_zh} / {text_en}. {alerts.dashboard_url}",
        "text_zh": text_zh,
        "text_en": text_en,
        "kind": event.event,
        "system": event.system,
        "at": event.at.isoformat(),
        "dashboard": f"{alerts.dashboard_url}#systems",
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


async def mark_open(engine: AsyncEngine, pair: str) -> None:
    """Remember that ``pair`` was alerted failing (its recovery will be told)."""
    async with transaction(engine) as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        await conn.execute(
            dialect.insert(alert_state)
            .values(key=f"open/{pair}", last_sent_at=utcnow())
            .on_conflict_do_nothing()
        )


async def close_open(engine: AsyncEngine, pair: str) -> bool:
    """True for the one process that closes ``pair``'s failing alert (it tells the recovery);
    its next failure is alerted at once, not after ``every``."""
    async with transaction(engine) as conn:
        gone = await conn.execute(delete(alert_state).where(alert_state.c.key == f"open/{pair}"))
        if gone.rowcount:
            await conn.execute(delete(alert_state).where(alert_state.c.key == f"{pair}/failing"))
        return bool(gone.rowcount)


def _about(body: dict[str, Any]) -> dict[str, Any]:
    """What a log line says about an alert: its kind and its pair or system."""
    return {k: body[k] for k in ("kind", "interface", "target", "system") if k in body}


class Alerter:
    def __init__(self, engine: AsyncEngine, config: Any, time_zone: str = "Asia/Shanghai") -> None:
        self.engine = engine
        self.config = config  # a callable giving the current GatewayConfig
        self.time_zone = time_zone  # chat messages show times in the factory's zone

    async def check(self, session: aiohttp.ClientSession) -> list[dict[str, Any]]:
        """Evaluate the health, send (or queue) what is new, then send what the robots take."""
        config: GatewayConfig = self.config()
        alerts = config.alerts
        if alerts is None or (alerts.webhook is None and not alerts.channels):
            return []  # e.g. the demo's chat robots, none switched on
        report = await build_report(self.engine, config, f"{alerts.window}s")
        sent = []
        for row in report["interfaces"]:
            pair = f"{row['interface']}/{row['target']}"
            for kind in reasons(row, config):
                if await claim(self.engine, f"{pair}/{kind}", alerts.every):
                    if kind == "failing":
                        await mark_open(self.engine, pair)
                    sent.append(await self._tell(session, alerts, notification(row, kind, alerts)))
            if row["status"] != "failing" and await close_open(self.engine, pair):
                sent.append(await self._tell(session, alerts, recovery(row, alerts)))
        sent += await self._events(session, alerts)
        await self.flush(session, alerts)
        return sent

    async def _events(
        self, session: aiohttp.ClientSession, alerts: AlertsConfig
    ) -> list[dict[str, Any]]:
        """Breaker events not sent yet, in the order they happened."""
        async with transaction(self.engine) as conn:
            events = await recent_events(conn, utcnow() - timedelta(seconds=EVENT_HORIZON_S))
        sent = []
        for event in events:
            if await claim(self.engine, f"flow-event/{event.id}", ONCE_S):
                sent.append(await self._tell(session, alerts, event_notification(event, alerts)))
        return sent

    async def _tell(
        self, session: aiohttp.ClientSession, alerts: AlertsConfig, body: dict[str, Any]
    ) -> dict[str, Any]:
        """To the webhook now; to each chat robot through its queue."""
        await alert_queue.enqueue(self.engine, list(alerts.channels), body)
        if alerts.webhook is not None:
            await self._post(session, alerts, alerts.webhook, body)
        return body

    async def _post(
        self, session: aiohttp.ClientSession, alerts: AlertsConfig, url: str, body: dict[str, Any]
    ) -> None:
        headers = {
            "Content-Type": "application/json",
            **{k: v.get_secret_value() for k, v in alerts.headers.items()},
        }
        try:
            async with session.post(
                url,
                data=orjson.dumps(body),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:
                log.warning("alert sent", status=response.status, **_about(body))
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.error("alert could not be sent", error=repr(exc), **_about(body))

    async def flush(self, session: aiohttp.ClientSession, alerts: AlertsConfig) -> int:
        """Send what each robot's budget allows now; returns the messages the robots took."""
        taken = 0
        for name, channel in alerts.channels.items():
            for _ in range(channel.limit.messages):
                outcome = await self._send_one(session, alerts, name, channel)
                if outcome != "ok":
                    break
                taken += 1
        return taken

    async def _send_one(
        self,
        session: aiohttp.ClientSession,
        alerts: AlertsConfig,
        name: str,
        channel: ChatChannel,
    ) -> str:
        """One message to one robot: ``ok``, ``empty`` (nothing queued), ``wait`` (no budget
        now) or what went wrong; whatever was not shown goes back in the queue."""
        engine = self.engine
        token, queued = await alert_queue.take(engine, name)
        if not queued:
            return "empty"
        lang = channel.language or alerts.language
        items = alert_text.fold(queued, lang)
        now_items = items[: alert_text.first_part(items)]
        ids = [i for item in now_items for i in item.ids]
        later = [row_id for row_id, _ in queued if row_id not in set(ids)]
        if later:
            await alert_queue.release(engine, token, later)
        if not await alert_queue.take_slot(engine, name, channel.limit.messages, channel.limit.per):
            await alert_queue.release(engine, token)
            return "wait"
        if len(now_items) == 1:
            last = max(now_items[0].ids)
            body = next(b for row_id, b in queued if row_id == last)
            title, text = alert_text.single(body, lang, self.time_zone, len(ids))
        else:
            title, text = alert_text.digest(
                now_items, lang, self.time_zone, alerts.dashboard_url, utcnow()
            )
        answer = await send(session, channel, title, text)
        if answer.outcome == "ok":
            await alert_queue.done(engine, ids)
            await alert_queue.record(engine, name, channel.kind)
            log.warning("chat alert sent", channel=name, alerts=len(ids), title=title)
            return "ok"
        await alert_queue.release(engine, token)
        limited = channel.limit.per if answer.outcome == "limited" else None
        await alert_queue.record(
            engine, name, channel.kind, error=answer.error, limited_for_s=limited
        )
        log.error("chat alert not sent", channel=name, error=answer.error, alerts=len(ids))
        return answer.outcome

    async def run_forever(self) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                alerts = self.config().alerts
                await asyncio.sleep(alerts.check if alerts else 30.0)
                try:
                    await self.check(session)
                except StoreUnavailable as exc:
                    log.warning("alerts not checked", error=str(exc))
