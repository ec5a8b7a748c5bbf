"""The ``example-webhook`` source: callers POST one JSON document per call.

The gateway serves it at ``POST /inbound/{interface}/example-webhook``. A caller proves
itself with a shared token; the answer says taken (200), refused for good (4xx) or
"send it again later" (503), so a caller knows whether to retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import orjson
from pydantic import Field, SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from esb.connectors import InboundConfig, InboundContext
from esb.errors import StoreUnavailable, ValidationFailed

__all__ = ["WebhookConfig", "WebhookSource"]


class WebhookConfig(InboundConfig):
    """Options of the ``example-webhook`` source."""

    token: SecretStr = Field(description="callers send `Authorization: Bearer TOKEN`; ${ENV_VAR}")
    max_bytes: int = Field(default=1024 * 1024, ge=1024, description="a larger body is refused")


def _error(status: int, code: str, message: str, **headers: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


async def _read(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it passes ``limit`` bytes (never held whole)."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            return None
    return bytes(data)


class WebhookSource:
    Config = WebhookConfig

    def __init__(self, config: WebhookConfig, context: InboundContext) -> None:
        self.config = config
        self.context = context
        self._expected = f"Bearer {config.token.get_secret_value()}".encode()

    async def run(self) -> None:
        """Nothing to do between calls: the gateway hands each one to ``handle``."""
        await asyncio.Event().wait()

    async def handle(self, request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, self._expected):
            return _error(401, "unauthenticated", "send Authorization: Bearer TOKEN")
        raw = await _read(request, self.config.max_bytes)
        if raw is None:
            return _error(413, "too_large", f"more than {self.config.max_bytes} bytes")
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return _error(400, "not_json", str(exc))
        # the caller's key, else the body's own digest: a resent document is the same one
        key = request.headers.get("idempotency-key") or hashlib.sha256(raw).hexdigest()
        try:
            accepted = await self.context.accept(document, idempotency_key=key)
        except ValidationFailed as exc:
            return _error(422, exc.code, exc.message)
        except StoreUnavailable:
            return _error(503, "unavailable", "send it again later", **{"Retry-After": "5"})
        return JSONResponse({"message_id": str(accepted.message_id)})

    async def aclose(self) -> None:
        """Nothing is held between calls."""
