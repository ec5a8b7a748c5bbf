"""Accepting a message: who may send it, is it well-formed, where does it go, store it once.

The HTTP layer only moves bytes; every decision about a message is made here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from esb.config.gateway import GatewayConfig
from esb.errors import FieldProblem, UnsupportedMediaType, ValidationFailed
from esb.store.accept import Accepted, NewMessage

MAX_IDEMPOTENCY_KEY = 200


def canonical_hash(body: Any) -> str:
    """The same document with keys in another order or other spacing hashes the same."""
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def check_json_content_type(content_type: str | None) -> str:
    media = (content_type or "application/json").split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType(f"send the body as application/json, not {media!r}")
    return "application/json"


def parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed(
            [FieldProblem("", f"body is not valid JSON: {exc}")], code="malformed_json"
        ) from exc


def check_idempotency_key(header: str | None) -> str | None:
    if header is None:
        return None
    key = header.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise ValidationFailed(
            [FieldProblem("Idempotency-Key", f"1 to {MAX_IDEMPOTENCY_KEY} printable characters")],
            code="bad_idempotency_key",
        )
    return "key:" + key


@dataclass
class Ingress:
    store: Callable[[NewMessage], Awaitable[Accepted]]  # the group-committed accept
    config: Callable[[], GatewayConfig]  # the current configuration (it can be reloaded)
    notify: Callable[[], None]

    async def accept(
        self,
        caller: str,
        message_type: str,
        raw: bytes,
        content_type: str | None,
        idempotency_header: str | None,
    ) -> Accepted:
        config = self.config()
        interface_name, _ = config.interface_for(caller, message_type)
        stored_type = check_json_content_type(content_type)
        idempotency_key = check_idempotency_key(idempotency_header)
        body = parse_json(raw)
        config.check_input(interface_name, body)
        targets, skipped = config.route(interface_name, body)
        new = NewMessage(
            interface=interface_name,
            message_type=message_type,
            source_system=caller,
            business_key=config.business_key(interface_name, body),
            idempotency_key=idempotency_key or canonical_hash(body),
            content_type=stored_type,
            body=raw.decode("utf-8"),
            targets=targets,
            skipped=skipped,
        )
        accepted = await self.store(new)
        if accepted.created and accepted.deliveries:
            self.notify()
        return accepted
