"""The ``example-chat`` connector: each message becomes a text posted to a chat robot's
webhook (the way WeCom or DingTalk robots are called)."""

from __future__ import annotations

import asyncio

import httpx
from pydantic import Field, SecretStr

from esb.sdk import (
    ConnectorConfig,
    ConnectorContext,
    Delivered,
    DeliveryRequest,
    Duration,
    Outcome,
    Park,
    RetryLater,
    dumps,
)

__all__ = ["ChatConfig", "ChatConnector"]

TRANSIENT = frozenset({408, 425, 429})


class ChatConfig(ConnectorConfig):
    """Options of the ``example-chat`` connector."""

    url: str = Field(pattern=r"^https?://", description="the robot's webhook, e.g. ${ROBOT_URL}")
    token: SecretStr = Field(description="sent as `Authorization: Bearer`; write ${ENV_VAR}")
    title: str = Field(default="New message", max_length=100, description="first line of the text")
    timeout: Duration = Field(default=10.0, gt=0, description="limit of one call, e.g. 10s")


def outcome_of(response: httpx.Response) -> Outcome:
    """2xx delivered; 408/425/429/5xx may clear (retry); any other answer never will (park)."""
    status = response.status_code
    if 200 <= status < 300:
        return Delivered(status_code=status)
    reason = f"HTTP {status}: {response.text[:200]}"
    if status in TRANSIENT or status >= 500:
        return RetryLater(reason, status)
    return Park(reason, status)


class ChatConnector:
    Config = ChatConfig

    def __init__(self, config: ChatConfig, context: ConnectorContext) -> None:
        self.config = config
        self.client = httpx.AsyncClient()

    def _text(self, request: DeliveryRequest) -> str:
        body = dumps(request.body).decode()  # Decimals exact, as the gateway writes them
        return f"{self.config.title}: {request.business_key}\n{body}"

    async def deliver(self, request: DeliveryRequest) -> Outcome:
        headers = {
            "Authorization": f"Bearer {self.config.token.get_secret_value()}",
            "Idempotency-Key": request.idempotency_key,
        }
        message = {"msgtype": "text", "text": {"content": self._text(request)}}
        try:
            async with asyncio.timeout(self.config.timeout):
                response = await self.client.post(self.config.url, json=message, headers=headers)
        except TimeoutError:
            return RetryLater(f"no answer within {self.config.timeout:g}s")
        except httpx.TransportError as exc:  # refused, reset, DNS: the robot may come back
            return RetryLater(f"{type(exc).__name__}: {exc}")
        return outcome_of(response)

    async def aclose(self) -> None:
        await self.client.aclose()
