"""The ``example-webhook`` source: callers POST one JSON document per call.

The gateway serves it at ``POST /inbound/{interface}/example-webhook``. A caller proves
itself with a shared token; the answer says taken (200), refused for good (4xx) or
"send it again later" (503), so a caller knows whether to retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac

from pydantic import Field, SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from esb.sdk import (
    InboundConfig,
    PayloadTooLarge,
    SourceContext,
    StoreUnavailable,
    ValidationFailed,
    loads,
    read_body,
)

__all__ = ["WebhookConfig", "WebhookSource"]


class WebhookConfig(InboundConfig):
    """Options of the ``example-webhook`` source."""

    token: SecretStr = Field(description="callers send `Authorization: Bearer TOKEN`; ${ENV_VAR}")
    max_bytes: int = Field(default=1024 * 1024, ge=1024, description="a larger body is refused")


def _error(status: int, code: str, message: str, **headers: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


class WebhookSource:
    Config = WebhookConfig

    def __init__(self, config: WebhookConfig, context: SourceContext) -> None:
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
        try:
            raw = await read_body(request, self.config.max_bytes)
            document = loads(raw)
        except PayloadTooLarge as exc:
            return _error(413, exc.code, exc.message)
        except ValueError as exc:  # not JSON
            return _error(400, "not_json", str(exc))
        try:
            accepted = await self.context.accept(document, idempotency_key=self._key(request, raw))
        except ValidationFailed as exc:
            return _error(422, exc.code, exc.message)
        except StoreUnavailable:
            return _error(503, "unavailable", "send it again later", **{"Retry-After": "5"})
        return JSONResponse({"message_id": str(accepted.message_id)})

    def _key(self, request: Request, raw: bytes) -> str:
        """The caller's ``Idempotency-Key``, else the body's digest: a document sent
        again is the same document."""
        given = self.context.check_idempotency_key(request.headers.get("idempotency-key"))
        return given or "sha256:" + hashlib.sha256(raw).hexdigest()

    async def aclose(self) -> None:
        """Nothing is held between calls."""
