"""Chat alert wording: one markdown message per alert, or a digest folding a burst.

The team reads these on a phone in the factory, in Chinese by default (``language: en``
for English; the words are the catalogues' ``alert.*``): what (interface -> target), how
bad (status), how much waits, the last error, when (in the factory's time zone) and a
link to the dashboard. A digest keeps one line per interface/target (its latest state)
and one per breaker event, so every pair a burst concerned is named even when many
alerts fold into one message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from esb.i18n import Language, text

#: Both robots take markdown of about 4 KB (WeCom: 4096 bytes); a digest is cut below it.
MAX_BYTES = 3800
ERROR_CHARS = 300
STATUSES = ("failing", "degraded", "ok")


def _w(key: str, lang: Language, /, **params: object) -> str:
    """A word of the alerts (``alert.<key>`` in the catalogues)."""
    return text(f"alert.{key}", lang, **params)


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


def _status(body: dict[str, Any], lang: Language) -> str:
    """The status in words, with its code beside it where the words are not the code."""
    status = str(body.get("status", ""))
    word = _w(f"status.{status}", lang) if status in STATUSES else status
    return status if word == status else f"{word} ({status})"


def _is_pair(body: dict[str, Any]) -> bool:
    return "interface" in body and "target" in body


def _event_text(body: dict[str, Any], lang: Language) -> str:
    return str(body.get("text_zh" if lang == "zh" else "text_en") or body.get("text", ""))


def single(body: dict[str, Any], lang: Language, zone: str, folded: int = 1) -> tuple[str, str]:
    """One alert as (title, markdown); ``folded``: how many alerts of it this one stands for."""
    when = _when(body, zone)
    if not _is_pair(body):  # a breaker event
        title = f"{_w('alert', lang)}: {body.get('system', '')}"
        lines = [f"### {title}", _event_text(body, lang)]
    else:
        recovered = body["kind"] == "recovered"
        head = _w("recovered" if recovered else "alert", lang)
        pair = f"{body['interface']} → {body['target']}"
        title = f"{head}: {pair} {_w('kind.' + body['kind'], lang)}"
        waiting = _w("pending", lang, count=body.get("pending", 0))
        extra = []
        if body.get("parked"):
            extra.append(f"{_w('parked', lang)} {body['parked']}")
        if body.get("blocked"):
            extra.append(f"{_w('blocked', lang)} {body['blocked']}")
        if extra:
            waiting += f" ({', '.join(extra)})"
        rate = body.get("success_rate")
        lines = [
            f"### {title}",
            f"- **{_w('interface', lang)}**: {body['interface']}",
            f"- **{_w('target', lang)}**: {body['target']}",
            f"- **{_w('status', lang)}**: {_status(body, lang)}"
            + (f", {_w('rate', lang)} {rate}" if rate is not None else ""),
            f"- **{_w('waiting', lang)}**: {waiting}",
            f"- **{_w('last_error', lang)}**: {_error_of(body) or _w('none', lang)}",
        ]
    if when:
        lines.append(f"- **{_w('time', lang)}**: {when} ({zone})")
    if folded > 1:
        lines.append(_w("folded", lang, n=folded))
    lines.append(f"\n[{_w('dashboard', lang)}]({body.get('dashboard', '')})")
    return title, "\n".join(lines)


@dataclass
class DigestItem:
    """One line of a digest and the queued alerts it stands for."""

    line: str
    ids: list[int] = field(default_factory=list)


def fold(queued: list[tuple[int, dict[str, Any]]], lang: Language) -> list[DigestItem]:
    """One line per interface/target (its latest alert) and one per event, oldest first."""
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
            f"- {mark} **{key[0]} → {key[1]}**: {_w('kind.' + body['kind'], lang)}, "
            f"{_status(body, lang)}, {_w('waiting', lang)} {body.get('pending', 0)}"
        )
        error = _error_of(body)
        if error and body["kind"] != "recovered":
            line += f", {_w('last_error', lang)}: {error[:120]}"
        item.line = line
    return items


def digest(
    items: list[DigestItem],
    lang: Language,
    zone: str,
    dashboard: str,
    at: datetime,
    part: str = "",
) -> tuple[str, str]:
    """A digest of ``items`` as (title, markdown)."""
    folded = sum(len(i.ids) for i in items)
    title = f"{_w('digest', lang)} {part}".strip()
    lines = [f"### {title}", _w("folded", lang, n=folded), *(i.line for i in items)]
    when = at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")
    lines.append(f"- **{_w('time', lang)}**: {when} ({zone})")
    lines.append(f"\n[{_w('dashboard', lang)}]({dashboard})")
    return title, "\n".join(lines)


def first_part(items: list[DigestItem], max_bytes: int = MAX_BYTES) -> int:
    """How many of ``items`` fit in one digest (at least one); the rest wait their turn."""
    size = 400  # title, time and link
    for count, item in enumerate(items):
        size += len(item.line.encode()) + 1
        if size > max_bytes:
            return max(count, 1)
    return len(items)
