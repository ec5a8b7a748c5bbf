"""Structured JSON logs (structlog) for our lines and the libraries' alike; secrets never printed.

Redaction is a processor on every event: keys that name a secret are replaced, and
bearer tokens or passwords inside URLs are masked wherever they appear in text.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import orjson
import structlog

SECRET_KEYS = re.compile(r"authorization|api[_-]?key|token|password|secret|admin[_-]?key", re.I)
_BEARER = re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.I)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
REDACTED = "[redacted]"


def scrub(text: str) -> str:
    return _URL_PASSWORD.sub(r"\1***@", _BEARER.sub(r"\1 " + REDACTED, text))


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: REDACTED if SECRET_KEYS.search(str(k)) else _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


#: The ids of the delivery being attempted, merged into every line logged meanwhile.
_DELIVERY: ContextVar[dict[str, str] | None] = ContextVar("esb_delivery", default=None)


@contextmanager
def delivery_context(**ids: str) -> Iterator[None]:
    """One context-variable set per attempt (cheaper than binding each key)."""
    token = _DELIVERY.set(ids)
    try:
        yield
    finally:
        _DELIVERY.reset(token)


def add_delivery_context(
    _: Any, __: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    ids = _DELIVERY.get()
    if ids:
        for key, value in ids.items():
            event.setdefault(key, value)
    return event


def redact_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        event[key] = REDACTED if SECRET_KEYS.search(key) else _redact(event[key])
    return event


def _json(event: MutableMapping[str, Any], **_: Any) -> str:
    return orjson.dumps(event, default=str).decode()


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    """One call per process, before anything logs."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_delivery_context,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_secrets,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_json)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        # the level check first: a disabled DEBUG line costs one comparison, not a pipeline
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiormq", "aio_pika", "aiohttp", "httpx", "httpcore", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
