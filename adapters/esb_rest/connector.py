"""The REST connector: its config model and its ``deliver``.

It uses aiohttp: measured on the 2-core reference machine, posting a 2.5 KB body to
a local sink cost 0.16-0.19 ms of CPU per call with aiohttp and 1.3-3.4 ms with
httpx (whose pool bookkeeping grows with the calls in flight); for a gateway whose
work *is* these calls that difference is the throughput (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import ClassVar, Literal

import aiohttp
import orjson
from pydantic import Field, SecretStr

from esb.sdk import (
    Auth,
    ConnectorConfig,
    ConnectorContext,
    Delivered,
    DeliveryRequest,
    Outcome,
    Park,
    RetryLater,
    Timeouts,
    auth_headers,
)

TRANSIENT_STATUS = frozenset({408, 425, 429})
EXCERPT = 300


class RestConfig(ConnectorConfig):
    """Options of the ``rest`` connector."""

    url: str = Field(pattern=r"^https?://", description="endpoint called, e.g. ${MES_URL}/api/x")
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    headers: dict[str, SecretStr] = Field(default_factory=dict, description="extra headers")
    auth: Auth | None = None
    timeout: Timeouts = Field(default_factory=Timeouts)
    max_connections: int = Field(
        default=32, ge=1, le=1000, description="pooled connections = calls in flight to this target"
    )
    verify_tls: bool = True


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header (delay or HTTP date), None if absent or bad."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        now = parsedate_to_datetime(headers["Date"]) if headers.get("Date") else None
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, (when - now).total_seconds()) if now else None


def classify(status: int, headers: Mapping[str, str], text: str) -> Outcome:
    """2xx delivered; 408/425/429/5xx retry (Retry-After honoured); anything else parks."""
    if 200 <= status < 300:
        return Delivered(status_code=status)
    excerpt = f"HTTP {status}" + (f": {text.strip()[:EXCERPT]}" if text.strip() else "")
    if status in TRANSIENT_STATUS or status >= 500:
        return RetryLater(excerpt, status, retry_after(headers))
    return Park(excerpt, status)


class RestConnector:
    Config: ClassVar[type[ConnectorConfig]] = RestConfig

    def __init__(self, config: RestConfig, context: ConnectorContext) -> None:
        self.config = config
        self.context = context
        self._headers = {"Content-Type": "application/json", "User-Agent": "esb-gateway"}
        self._headers.update({k: v.get_secret_value() for k, v in config.headers.items()})
        self._headers.update(auth_headers(config.auth))
        self._timeout = aiohttp.ClientTimeout(
            total=config.timeout.total, sock_connect=config.timeout.connect
        )
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        """Created on first use, inside the event loop that will run it."""
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self.config.max_connections, ssl=None if self.config.verify_tls else False
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                timeout=self._timeout,
                json_serialize=lambda v: orjson.dumps(v).decode(),
            )
        return self._session

    async def deliver(self, request: DeliveryRequest) -> Outcome:
        body = request.body_json()
        headers = {
            "Idempotency-Key": request.idempotency_key,
            "X-Esb-Message-Id": str(request.message_id),
            "X-Esb-Delivery-Id": str(request.delivery_id),
            "X-Esb-Attempt": str(request.attempt),
        }
        try:
            async with self._client().request(
                self.config.method,
                self.config.url,
                data=body,
                headers=headers,
                allow_redirects=False,
            ) as response:
                text = "" if response.status < 300 else await self._excerpt(response)
                return classify(response.status, response.headers, text)
        except aiohttp.ConnectionTimeoutError:  # the target never saw the request
            return RetryLater(f"no connection within {self.config.timeout.connect:g}s")
        except TimeoutError:
            return RetryLater(f"timeout after {self.config.timeout.total:g}s")
        except aiohttp.InvalidURL as exc:
            return Park(f"invalid URL: {exc}")
        except aiohttp.ClientError as exc:
            return RetryLater(f"{type(exc).__name__}: {exc}")

    @staticmethod
    async def _excerpt(response: aiohttp.ClientResponse) -> str:
        raw = await response.content.read(EXCERPT * 4)
        return raw.decode(response.charset or "utf-8", "replace")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
