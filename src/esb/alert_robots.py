"""Send one markdown message to a team chat robot (WeCom or DingTalk) and read its answer.

Both robots answer HTTP 200 with ``{"errcode", "errmsg"}``; only ``errcode`` 0 is a
message shown in the group. Their rate limit (20 a minute) has its own code, so the
caller can wait out the window and send again instead of losing the alert.
DingTalk's signed robots want ``timestamp`` (ms) and ``sign`` on the URL: the
URL-encoded Base64 of HMAC-SHA256 keyed by the secret over ``"{timestamp}\\n{secret}"``
(DingTalk custom robot documentation, "加签").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import aiohttp
import orjson
from yarl import URL

from esb.config.models import ChatChannel

#: errcode a robot answers when it takes no more messages this minute
RATE_LIMITED = {"wecom": {45009}, "dingtalk": {130101}}
TIMEOUT = aiohttp.ClientTimeout(total=10)
_CREDENTIAL = re.compile(r"(key|access_token|sign)=[^&\s'\"]*")


@dataclass(frozen=True)
class Answer:
    """What the robot did with one message: ``ok``, ``limited`` (retry after the window)
    or ``failed`` with the reason."""

    outcome: str
    error: str | None = None


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` query value: URL-encoded Base64 of HMAC-SHA256(secret, "ts\\nsecret")."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest).decode())


def signed_url(url: str, secret: str | None, now_ms: int | None = None) -> str:
    """A DingTalk URL with ``timestamp`` and ``sign`` added (unchanged without a secret)."""
    if not secret:
        return url
    ts = now_ms if now_ms is not None else int(time.time() * 1000)
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={ts}&sign={dingtalk_sign(secret, ts)}"


def request_body(kind: str, title: str, text: str) -> dict[str, Any]:
    """The markdown message as each robot wants it."""
    if kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def _classify(kind: str, status: int, raw: bytes) -> Answer:
    try:
        answer = orjson.loads(raw)
    except orjson.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict) or "errcode" not in answer:
        shown = raw[:200].decode("utf-8", "replace")
        return Answer("failed", f"HTTP {status}: not a robot answer: {shown}")
    code = answer.get("errcode")
    if code == 0:
        return Answer("ok")
    reason = f"errcode {code}: {answer.get('errmsg', '')}"
    if code in RATE_LIMITED[kind]:
        return Answer("limited", reason)
    return Answer("failed", reason)


async def send(
    session: aiohttp.ClientSession, channel: ChatChannel, title: str, text: str
) -> Answer:
    """POST the message; never raises for what the network or the robot does."""
    secret = channel.secret.get_secret_value() if channel.secret else None
    url = signed_url(channel.url, secret) if channel.kind == "dingtalk" else channel.url
    try:
        async with session.post(
            URL(url, encoded=True),
            data=orjson.dumps(request_body(channel.kind, title, text)),
            headers={"Content-Type": "application/json; charset=utf-8"},
            timeout=TIMEOUT,
        ) as response:
            return _classify(channel.kind, response.status, await response.read())
    except (aiohttp.ClientError, TimeoutError) as exc:
        shown = _CREDENTIAL.sub(r"\1=***", repr(exc))  # the key or token is a credential
        return Answer("failed", f"{channel.url_shown()} unreachable: {shown}")
