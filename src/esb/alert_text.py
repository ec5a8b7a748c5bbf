"""Chat alert wording: one markdown message per alert, or a digest folding a burst.

The team reads these on a phone in the factory, in Chinese by default (``language: en``
for English): what (interface -> target), how bad (status), how much waits, the last
error, when (in the factory's time zone) and a link to the dashboard. A digest keeps one
line per interface/target (its latest state) and one per breaker event, so every pair a
burst concerned is named even when many alerts fold into one message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

#: Both robots take markdown of about 4 KB (WeCom: 4096 bytes); a digest is cut below it.
MAX_BYTES = 3800
ERROR_CHARS = 300

_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "failing": "失败",
        "degraded": "降级",
        "ok": "正常",
        "alert": "告警",
        "recovered": "恢复",
        "digest": "告警汇总",
        "interface": "接口",
        "target": "目标",
        "status": "状态",
        "waiting": "等待投递",
        "parked": "已挂起",
        "blocked": "被阻塞",
        "rate": "成功率",
        "last_error": "最近错误",
        "none": "无",
        "time": "时间",
        "dashboard": "打开看板",
        "kind.failing": "投递失败",
        "kind.backlog": "积压",
        "kind.blocked": "被挂起的投递阻塞",
        "kind.recovered": "已恢复",
        "items": "条",
        "folded": "合并了 {n} 条告警",
    },
    "en": {
        "failing": "failing",
        "degraded": "degraded",
        "ok": "ok",
        "alert": "Alert",
        "recovered": "Recovered",
        "digest": "Alert digest",
        "interface": "Interface",
        "target": "Target",
        "status": "Status",
        "waiting": "Waiting deliveries",
        "parked": "parked",
        "blocked": "blocked",
        "rate": "success rate",
        "last_error": "Last error",
        "none": "none",
        "time": "Time",
        "dashboard": "Open the dashboard",
        "kind.failing": "failing",
        "kind.backlog": "backed up",
        "kind.blocked": "held back by parked deliveries",
        "kind.recovered": "recovered",
        "items": "",
        "folded": "{n} alerts folded into this message",
    },
}


def _error_of(body: dict[str, Any]) -> str | None:
    error = body.get("last_error")
    if isinstance(error, dict):
        error = error.get("error")
    if not error:
        return None
    text = " ".join(str(error).split())
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


def _when(body: dict[str, Any], zone: str) -> str:
    at = body.get("at")
    if not at:
        return ""
    return datetime.fromisoformat(at).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def _status(body: dict[str, Any], w: dict[str, str]) -> str:
    status = str(body.get("status", ""))
    return f"{w.get(status, status)} ({status})" if w is _WORDS["zh"] else status


def _is_pair(body: dict[str, Any]) -> bool:
    return "interface" in body and "target" in body


def _event_text(body: dict[str, Any], lang: str) -> str:
    return str(body.get("text_zh" if lang == "zh" else "text_en") or body.get("text", ""))


def single(body: dict[str, Any], lang: str, zone: str, folded: int = 1) -> tuple[str, str]:
    """One alert as (title, markdown); ``folded``: how many alerts of it this one stands for."""
    w = _WORDS[lang]
    when = _when(body, zone)
    if not _is_pair(body):  # a breaker event
        title = f"{w['alert']}: {body.get('system', '')}"
        lines = [f"### {title}", _event_text(body, lang)]
    else:
        recovered = body["kind"] == "recovered"
        head = w["recovered"] if recovered else w["alert"]
        pair = f"{body['interface']} → {body['target']}"
        title = f"{head}: {pair} {w['kind.' + body['kind']]}"
        waiting = f"{body.get('pending', 0)} {w['items']}".strip()
        extra = []
        if body.get("parked"):
            extra.append(f"{w['parked']} {body['parked']}")
        if body.get("blocked"):
            extra.append(f"{w['blocked']} {body['blocked']}")
        if extra:
            waiting += f" ({', '.join(extra)})"
        lines = [
            f"### {title}",
            f"- **{w['interface']}**: {body['interface']}",
            f"- **{w['target']}**: {body['target']}",
            f"- **{w['status']}**: {_status(body, w)}"
            + (
                f", {w['rate']} {body['success_rate']}"
                if body.get("success_rate") is not None
                else ""
            ),
            f"- **{w['waiting']}**: {waiting}",
            f"- **{w['last_error']}**: {_error_of(body) or w['none']}",
        ]
    if when:
        lines.append(f"- **{w['time']}**: {when} ({zone})")
    if folded > 1:
        lines.append(w["folded"].format(n=folded))
    lines.append(f"\n[{w['dashboard']}]({body.get('dashboard', '')})")
    return title, "\n".join(lines)


@dataclass
class DigestItem:
    """One line of a digest and the queued alerts it stands for."""

    line: str
    ids: list[int] = field(default_factory=list)


def fold(queued: list[tuple[int, dict[str, Any]]], lang: str) -> list[DigestItem]:
    """One line per interface/target (its latest alert) and one per event, oldest first."""
    w = _WORDS[lang]
    pairs: dict[tuple[str, str], DigestItem] = {}
    items: list[DigestItem] = []
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row_id, body in queued:
        if not _is_pair(body):
            items.append(DigestItem(f"- {_event_text(body, lang)}", [row_id]))
            continue
        key = (body["interface"], body["target"])
        latest[key] = body
        if key not in pairs:
            pairs[key] = DigestItem("")
            items.append(pairs[key])
        pairs[key].ids.append(row_id)
    for key, item in pairs.items():
        body = latest[key]
        mark = "✅" if body["kind"] == "recovered" else "🔴"
        line = (
            f"- {mark} **{key[0]} → {key[1]}**: {w['kind.' + body['kind']]}, "
            f"{_status(body, w)}, {w['waiting']} {body.get('pending', 0)}"
        )
        error = _error_of(body)
        if error and body["kind"] != "recovered":
            line += f", {w['last_error']}: {error[:120]}"
        item.line = line
    return items


def digest(
    items: list[DigestItem], lang: str, zone: str, dashboard: str, at: datetime, part: str = ""
) -> tuple[str, str]:
    """A digest of ``items`` as (title, markdown)."""
    w = _WORDS[lang]
    folded = sum(len(i.ids) for i in items)
    title = f"{w['digest']} {part}".strip()
    lines = [f"### {title}", w["folded"].format(n=folded), *(i.line for i in items)]
    when = at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")
    lines.append(f"- **{w['time']}**: {when} ({zone})")
    lines.append(f"\n[{w['dashboard']}]({dashboard})")
    return title, "\n".join(lines)


def first_part(items: list[DigestItem], max_bytes: int = MAX_BYTES) -> int:
    """How many of ``items`` fit in one digest (at least one); the rest wait their turn."""
    size = 400  # title, time and link
    for count, item in enumerate(items):
        size += len(item.line.encode()) + 1
        if size > max_bytes:
            return max(count, 1)
    return len(items)
