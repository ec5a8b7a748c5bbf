"""One HTTP exchange with a Yonyou API and what its failures mean.

Yonyou answers HTTP 200 for business errors too (the body's ``errcode``/``code`` says),
so here only the transport is judged: no connection, a timeout, 429 or 5xx may clear
(``RetryLater``); another non-2xx status or an answer that is not a JSON object will not
(``Park``). The codes inside a JSON answer are judged by the flavour that asked.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx

from esb.sdk import Park, RetryLater, loads, shorten
from esb_yonyou.errors import Stop

EXCERPT = 300
TRANSIENT_STATUS = frozenset({408, 425, 429})
_SECRET_PARAMS = re.compile(r"(?i)\b(app_secret|appsecret|signature|access_token|token)=[^&\s\"']*")


def redact(text: str) -> str:
    """``text`` with the values of secret query parameters replaced by ``***``."""
    return _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}=***", text)


class _RedactQuery(logging.Filter):
    """httpx logs every request's full URL at INFO; U8 puts app_secret and the token in
    the query, so those values are blanked before any handler sees the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(str(a)) if "=" in str(a) else a for a in args)
        record.msg = redact(str(record.msg))
        return True


def quiet_secrets_in_httpx_logs() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactQuery) for f in logger.filters):
        logger.addFilter(_RedactQuery())


async def call(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    what: str,
    params: dict[str, Any] | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON object answered; ``Stop`` with the outcome when there is none. ``what``
    names the step in reasons (e.g. "U8 token")."""
    headers = dict(headers or {})
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        response = await client.request(method, url, params=params, content=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise Stop(RetryLater(f"{what}: no answer in time ({type(exc).__name__})")) from None
    except httpx.InvalidURL as exc:
        raise Stop(Park(f"{what}: invalid URL: {redact(str(exc))}")) from None
    except httpx.TransportError as exc:
        raise Stop(RetryLater(f"{what}: {type(exc).__name__}: {redact(str(exc))}")) from None
    status = response.status_code
    text = response.text
    if not 200 <= status < 300:
        excerpt = f"{what}: HTTP {status}" + (f": {shorten(text.strip(), EXCERPT)}" if text else "")
        if status in TRANSIENT_STATUS or status >= 500:
            raise Stop(RetryLater(redact(excerpt), status, _retry_after(response)))
        raise Stop(Park(redact(excerpt), status))
    try:
        answer = loads(text)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise Stop(Park(f"{what}: the answer is not a JSON object: {shorten(text, EXCERPT)}"))
    return answer


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def code_of(answer: dict[str, Any], key: str) -> str:
    """A code as text (Yonyou sends ``"0"`` or ``0`` depending on the service)."""
    value = answer.get(key)
    return "" if value is None else str(value)


def message_of(answer: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = answer.get(key)
        if isinstance(value, str) and value:
            return value
    return ""
