"""U8+ OpenAPI (用友 U8+ 开放平台): token, trade id per write, asynchronous result.

The steps, as the platform publishes them (README, "Sources"):

1. ``GET /system/token?from_account&app_key&app_secret`` -> ``{"errcode": "0", "token":
   {"id": ...}}``, good for about two hours: held by a :class:`TokenCache`.
2. ``GET /system/tradeid?from_account&app_key&token`` -> ``{"trade": {"id": ...}}``: the
   trade id that lets the platform recognise a repeated submission. One per delivery,
   kept for its repeats ("多次提交请使用同一个 tradeid"), forgotten once it settles.
3. ``POST {path}?from_account&to_account&app_key&token&tradeid[&biz_id][&ds_sequence]``
   with the mapped body. The answer carries a ``url`` whose later ``GET`` gives the real
   result: followed with a growing wait until it is no longer processing.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urljoin

import httpx

from esb.sdk import Delivered, DeliveryRequest, Outcome, Park, RetryLater
from esb_yonyou.config import Codes, YonyouConfig
from esb_yonyou.errors import Stop, TokenRefused
from esb_yonyou.tokens import TokenCache
from esb_yonyou.wire import call, code_of, message_of

MAX_KEPT = 10_000  # trade ids of unsettled deliveries held at most (oldest forgotten first)


@dataclass
class _Trade:
    id: str
    result_url: str | None = None  # set once the write was taken: we are waiting on it


class U8Flow:
    """One delivery = trade id, write, result; a refused token is raised to the caller,
    which renews it and calls ``write`` once more."""

    name = "U8"

    def __init__(self, config: YonyouConfig, client: httpx.AsyncClient) -> None:
        self.config = config
        self.client = client
        self.codes: Codes = config.codes()
        self.base = config.base_url.rstrip("/")
        self.tokens = TokenCache(self._fetch_token, config.token_margin)
        self._trades: OrderedDict[str, _Trade] = OrderedDict()

    def _account(self) -> dict[str, Any]:
        return {"from_account": self.config.from_account, "app_key": self.config.app_key}

    async def _fetch_token(self) -> tuple[str, float]:
        params = {**self._account(), "app_secret": self.config.app_secret.get_secret_value()}
        answer = await call(self.client, "GET", f"{self.base}/system/token", "U8 token", params)
        code = code_of(answer, "errcode")
        token = answer.get("token")
        value = token.get("id") if isinstance(token, dict) else None
        if code in self.codes.success and isinstance(value, str) and value:
            return value, self._lifetime(answer, token)
        message = message_of(answer, "errmsg") or "no token in the answer"
        if code in self.codes.busy:
            raise Stop(RetryLater(f"U8 token: busy, errcode {code}: {message}"))
        raise Stop(
            Park(
                f"U8 refused the app's credentials (errcode {code or '-'}: {message}); "
                "check app_key, app_secret and from_account"
            )
        )

    def _lifetime(self, answer: dict[str, Any], token: Any) -> float:
        for where in (token, answer):
            if isinstance(where, dict):
                for key in ("expiresIn", "expires_in", "expire"):
                    try:
                        return max(1.0, float(where[key]))
                    except (KeyError, TypeError, ValueError):
                        continue
        return self.config.token_lifetime

    async def _trade(self, request: DeliveryRequest, token: str) -> _Trade:
        key = request.idempotency_key
        trade = self._trades.get(key)
        if trade is not None:
            self._trades.move_to_end(key)
            return trade
        params = {**self._account(), "token": token}
        answer = await call(
            self.client, "GET", f"{self.base}/system/tradeid", "U8 trade id", params
        )
        code = code_of(answer, "errcode")
        found = answer.get("trade")
        value = found.get("id") if isinstance(found, dict) else None
        if code in self.codes.success and isinstance(value, str) and value:
            trade = self._trades[key] = _Trade(value)
            while len(self._trades) > MAX_KEPT:
                self._trades.popitem(last=False)
            return trade
        self._judge(code, message_of(answer, "errmsg") or "no trade id in the answer", token)

    def _judge(self, code: str, message: str, token: str, step: str = "U8 trade id") -> NoReturn:
        """Raise what a code other than success means."""
        if code in self.codes.token:
            raise TokenRefused(token, f"errcode {code}: {message}")
        if code in self.codes.busy:
            raise Stop(RetryLater(f"{step}: busy, errcode {code}: {message}"))
        raise Stop(Park(f"{step}: errcode {code or '-'}: {message}"))

    async def write(self, request: DeliveryRequest, token: str) -> Outcome:
        trade = await self._trade(request, token)
        params: dict[str, Any] = {
            **self._account(),
            "to_account": self.config.to_account,
            "token": token,
            "tradeid": trade.id,
        }
        if self.config.biz_id:
            params["biz_id"] = request.idempotency_key
        if self.config.ds_sequence is not None:
            params["ds_sequence"] = self.config.ds_sequence
        url = f"{self.base}{self.config.path}"
        answer = await call(self.client, "POST", url, "U8 write", params, request.body_json())
        code = code_of(answer, "errcode")
        if code not in self.codes.success:
            self._judge(code, message_of(answer, "errmsg") or "(no errmsg)", token, "U8 write")
        result = answer.get("url")
        if not isinstance(result, str) or not result:
            return self._settled(request, _detail(answer, trade))  # answered at once
        trade.result_url = urljoin(f"{self.base}/", result)
        return await self._follow(request, trade)

    async def _follow(self, request: DeliveryRequest, trade: _Trade) -> Outcome:
        """GET the result URL until it says other than "processing"; the caller's
        timeout bounds the whole."""
        assert trade.result_url is not None
        delay = self.config.polling.first
        while True:
            await asyncio.sleep(delay)
            answer = await call(self.client, "GET", trade.result_url, "U8 result")
            code = code_of(answer, "errcode")
            message = message_of(answer, "errmsg") or "(no errmsg)"
            if code in self.codes.success:
                return self._settled(request, _detail(answer, trade))
            if code in self.codes.processing:
                delay = min(delay * self.config.polling.factor, self.config.polling.longest)
                continue
            if code in self.codes.busy or code in self.codes.token:
                return RetryLater(f"U8 result: busy, errcode {code}: {message}")
            self._trades.pop(request.idempotency_key, None)
            return Park(f"U8 result: errcode {code or '-'}: {message} (tradeid {trade.id})")

    def _settled(self, request: DeliveryRequest, detail: dict[str, Any]) -> Delivered:
        self._trades.pop(request.idempotency_key, None)
        return Delivered(200, detail)

    def forget(self, request: DeliveryRequest) -> None:
        """The delivery parked: a replay after the fix gets a fresh trade id."""
        self._trades.pop(request.idempotency_key, None)

    def timed_out(self, request: DeliveryRequest, seconds: float) -> RetryLater:
        trade = self._trades.get(request.idempotency_key)
        if trade is not None and trade.result_url is not None:
            return RetryLater(
                f"U8 result still processing after {seconds:g}s; the repeat sends the "
                f"same tradeid {trade.id}, so it is not applied twice"
            )
        return RetryLater(f"U8: no answer within {seconds:g}s")


def _detail(answer: dict[str, Any], trade: _Trade) -> dict[str, Any]:
    detail: dict[str, Any] = {"tradeid": trade.id}
    for key in ("id", "errmsg"):
        if isinstance(answer.get(key), str | int):
            detail[key] = answer[key]
    return detail
