"""The SOAP connector: one operation of a WSDL, called with the mapped body as its input.

zeep reads the WSDL (once, cached) and builds the envelope; the call itself goes out on
a pooled ``httpx.AsyncClient`` so the event loop is never blocked, and the answer is
parsed by :mod:`esb.sdk.xml` before zeep reads it.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

import httpx

from esb.sdk import (
    ConnectorConfig,
    ConnectorContext,
    DeliveryRequest,
    Outcome,
    Park,
    PluginError,
    RetryLater,
    auth_headers,
)

from .answer import classify
from .config import SoapConfig
from .wsdl import (
    BoundOperation,
    RequestMismatch,
    WsdlInvalid,
    WsdlUnavailable,
    bind_operation,
    is_url,
    locate,
    read_wsdl_file,
)

__all__ = ["SoapConnector"]


class AnswerTooLarge(PluginError):
    """The target answered more bytes than ``max_response_bytes``."""


def _call_headers(operation: BoundOperation, request: DeliveryRequest) -> dict[str, str]:
    return {
        **operation.http_headers(),
        "Idempotency-Key": request.idempotency_key,
        "X-Esb-Message-Id": str(request.message_id),
        "X-Esb-Delivery-Id": str(request.delivery_id),
        "X-Esb-Attempt": str(request.attempt),
    }


class SoapConnector:
    Config: ClassVar[type[ConnectorConfig]] = SoapConfig

    def __init__(self, config: SoapConfig, context: ConnectorContext) -> None:
        self.config = config
        self.context = context
        self._location = locate(config.wsdl, context.config_dir)
        self._operation: BoundOperation | None = None
        self._binding = asyncio.Lock()
        headers = {"User-Agent": "esb-gateway"}
        headers.update({k: v.get_secret_value() for k, v in config.headers.items()})
        headers.update(auth_headers(config.auth))
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
        try:
            operation = await self._bound()
            content = operation.envelope(request.body)
        except WsdlUnavailable as exc:
            return RetryLater(str(exc))
        except (WsdlInvalid, RequestMismatch) as exc:
            return Park(str(exc))
        try:
            async with asyncio.timeout(self.config.timeout.total):
                status, data = await self._post(operation, content, request)
        except (TimeoutError, httpx.TimeoutException) as exc:
            limit = self.config.timeout.total
            return RetryLater(f"timeout after {limit:g}s ({type(exc).__name__})")
        except httpx.TransportError as exc:
            return RetryLater(f"{type(exc).__name__}: {exc}")
        except AnswerTooLarge as exc:
            return Park(str(exc))
        return classify(operation, status, data, self.config.max_response_bytes)

    async def _bound(self) -> BoundOperation:
        """The bound operation; the WSDL is read and parsed on first use only."""
        async with self._binding:
            if self._operation is None:
                content = await self._read_wsdl()
                self._operation = await asyncio.to_thread(
                    bind_operation, self._location, content, self.config
                )
            return self._operation

    async def _read_wsdl(self) -> bytes:
        if not is_url(self._location):
            return await asyncio.to_thread(read_wsdl_file, self._location)
        try:
            response = await self._client.get(self._location)
        except httpx.HTTPError as exc:
            raise WsdlUnavailable(f"cannot fetch the WSDL {self._location}: {exc!r}") from exc
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise WsdlUnavailable(f"WSDL {self._location}: HTTP {response.status_code}")
        if response.status_code != 200:
            raise WsdlInvalid(f"WSDL {self._location}: HTTP {response.status_code}")
        return response.content

    async def _post(
        self, operation: BoundOperation, content: bytes, request: DeliveryRequest
    ) -> tuple[int, bytes]:
        headers = _call_headers(operation, request)
        call = self._client.stream("POST", operation.address, content=content, headers=headers)
        async with call as response:
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > self.config.max_response_bytes:
                    raise AnswerTooLarge(
                        f"answer longer than {self.config.max_response_bytes} bytes: refused"
                    )
            return response.status_code, bytes(data)

    async def aclose(self) -> None:
        await self._client.aclose()
