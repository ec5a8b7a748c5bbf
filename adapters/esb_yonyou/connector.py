"""The ``yonyou`` connector: the flavour's steps inside one timeout, a refused token
renewed and the call repeated once (not an attempt), failures turned into outcomes."""

from __future__ import annotations

import asyncio
from typing import ClassVar, Protocol

import httpx

from esb.sdk import (
    ConnectorConfig,
    ConnectorContext,
    DeliveryRequest,
    Outcome,
    Park,
    RetryLater,
)
from esb_yonyou.config import YonyouConfig
from esb_yonyou.errors import Stop, TokenRefused
from esb_yonyou.tokens import TokenCache
from esb_yonyou.u8 import U8Flow
from esb_yonyou.wire import quiet_secrets_in_httpx_logs, redact
from esb_yonyou.yonbip import YonBipFlow


class Flow(Protocol):
    name: str
    tokens: TokenCache

    async def write(self, request: DeliveryRequest, token: str) -> Outcome: ...

    def forget(self, request: DeliveryRequest) -> None: ...

    def timed_out(self, request: DeliveryRequest, seconds: float) -> RetryLater: ...


class YonyouConnector:
    Config: ClassVar[type[ConnectorConfig]] = YonyouConfig

    def __init__(self, config: YonyouConfig, context: ConnectorContext) -> None:
        self.config = config
        self.context = context
        quiet_secrets_in_httpx_logs()
        timeout = httpx.Timeout(config.timeout.total, connect=config.timeout.connect)
        self._client = httpx.AsyncClient(
            timeout=timeout,
            verify=config.verify_tls,
            follow_redirects=False,
            headers={"User-Agent": "esb-gateway"},
        )
        self.flow: Flow = (
            U8Flow(config, self._client) if config.api == "u8" else YonBipFlow(config, self._client)
        )

    async def deliver(self, request: DeliveryRequest) -> Outcome:
        seconds = self.config.timeout.total
        try:
            async with asyncio.timeout(seconds):
                outcome = await self._deliver(request)
        except TimeoutError:
            outcome = self.flow.timed_out(request, seconds)
        if isinstance(outcome, Park):
            self.flow.forget(request)
        return self._hidden(outcome)

    async def _deliver(self, request: DeliveryRequest) -> Outcome:
        tokens = self.flow.tokens
        try:
            token = await tokens.get()
            try:
                return await self.flow.write(request, token)
            except TokenRefused as refused:
                tokens.drop(refused.token)  # only if no other delivery renewed it already
            token = await tokens.get()
            try:
                return await self.flow.write(request, token)
            except TokenRefused as again:
                tokens.drop(again.token)
                return Park(
                    f"{self.flow.name} refused a token it had just issued ({again.message}); "
                    "is the app authorised for this account and API?"
                )
        except Stop as stop:
            return stop.outcome

    def _hidden(self, outcome: Outcome) -> Outcome:
        """No reason ever holds the secret, whatever an answer or an exception echoed."""
        if isinstance(outcome, RetryLater | Park):
            secret = self.config.app_secret.get_secret_value()
            reason = redact(outcome.reason)
            if secret and secret in reason:
                reason = reason.replace(secret, "***")
            if reason != outcome.reason:
                if isinstance(outcome, Park):
                    return Park(reason, outcome.status_code)
                return RetryLater(reason, outcome.status_code, outcome.retry_after)
        return outcome

    async def aclose(self) -> None:
        await self._client.aclose()
