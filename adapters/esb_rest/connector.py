"""The REST connector: its config model and its ``deliver``."""

from __future__ import annotations

import base64
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Literal

import httpx
import orjson
from pydantic import Field, SecretStr

from esb.config.types import Auth, BasicAuth, BearerAuth, Timeouts
from esb.connectors import (
    ConnectorConfig,
    ConnectorContext,
    Delivered,
    DeliveryRequest,
    Outcome,
    Park,
    RetryLater,
)

TRANSIENT_STATUS = frozenset({408, 425, 429})


class RestConfig(ConnectorConfig):
    """Options of the ``rest`` connector."""

    kind: Literal["rest"] = "rest"
    url: str = Field(pattern=r"^https?://", description="endpoint called, e.g. ${MES_URL}/api/x")
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    headers: dict[str, SecretStr] = Field(default_factory=dict, description="extra headers")
    auth: Auth | None = None
    timeout: Timeouts = Field(default_factory=Timeouts)
    max_connections: int = Field(default=64, ge=1, description="pooled connections per target")
    verify_tls: bool = True


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))  # exact decimal, not a float
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    date = response.headers.get("date")
    now = parsedate_to_datetime(date) if date else None
    return max(0.0, (when - now).total_seconds()) if now else None


def _auth_headers(auth: Auth | None) -> dict[str, str]:
    if auth is None:
        return {}
    if isinstance(auth, BasicAuth):
        raw = f"{auth.username}:{auth.password.get_secret_value()}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    if isinstance(auth, BearerAuth):
        return {"Authorization": "Bearer " + auth.token.get_secret_value()}
    return {auth.name: auth.value.get_secret_value()}


def _excerpt(response: httpx.Response) -> str:
    text = response.text[:300].strip()
    return f"HTTP {response.status_code}" + (f": {text}" if text else "")


class RestConnector:
    kind: ClassVar[str] = "rest"
    Config: ClassVar[type[ConnectorConfig]] = RestConfig

    def __init__(self, config: RestConfig, context: ConnectorContext) -> None:
        self.config = config
        self.context = context
        headers = {"Content-Type": "application/json", "User-Agent": "esb-gateway"}
        headers.update({k: v.get_secret_value() for k, v in config.headers.items()})
        headers.update(_auth_headers(config.auth))
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(config.timeout.total, connect=config.timeout.connect),
            limits=httpx.Limits(
                max_connections=config.max_connections,
                max_keepalive_connections=config.max_connections,
            ),
            verify=config.verify_tls,
            follow_redirects=False,
        )

    async def deliver(self, request: DeliveryRequest) -> Outcome:
        body = orjson.dumps(request.body, default=_json_default)
        headers = {
            "Idempotency-Key": request.idempotency_key,
            "X-Esb-Message-Id": str(request.message_id),
            "X-Esb-Delivery-Id": str(request.delivery_id),
            "X-Esb-Attempt": str(request.attempt),
        }
        try:
            response = await self._client.request(
                self.config.method, self.config.url, content=body, headers=headers
            )
        except httpx.TimeoutException as exc:
            return RetryLater(f"timeout: {type(exc).__name__}")
        except httpx.TransportError as exc:
            return RetryLater(f"{type(exc).__name__}: {exc}")
        return self.classify(response)

    @staticmethod
    def classify(response: httpx.Response) -> Outcome:
        status = response.status_code
        if 200 <= status < 300:
            return Delivered(status_code=status)
        if status in TRANSIENT_STATUS or status >= 500:
            return RetryLater(_excerpt(response), status, _retry_after(response))
        return Park(_excerpt(response), status)

    async def aclose(self) -> None:
        await self._client.aclose()
