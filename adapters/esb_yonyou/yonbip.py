"""YonBIP / YonSuite self-built app (YonBIP 自建应用): a signed token, then the OpenAPI.

As published (README, "Sources"): ``GET {auth}/open-auth/selfAppAuth/getAccessToken`` with
``appKey``, ``timestamp`` (milliseconds) and ``signature`` = URLEncode(Base64(HmacSHA256(
the parameters sorted by name, each name followed by its value, signature left out; key:
the app secret))). The answer ``{"code": "00000", "data": {"access_token", "expire"}}``
holds the token for ``expire`` seconds; business calls carry it as ``access_token``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from esb.sdk import Delivered, DeliveryRequest, Outcome, Park, RetryLater
from esb_yonyou.config import Codes, YonyouConfig
from esb_yonyou.errors import Stop, TokenRefused
from esb_yonyou.tokens import TokenCache
from esb_yonyou.wire import call, code_of, message_of

TOKEN_PATH = "/open-auth/selfAppAuth/getAccessToken"
TOKEN_OK = "00000"


def signature(params: dict[str, str], secret: str) -> str:
    """Base64 of HMAC-SHA256 over ``name1value1name2value2...`` (names sorted, the
    ``signature`` parameter left out). The URL-encoding the publication adds is done by
    the query string the value is sent in."""
    text = "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "signature")
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class YonBipFlow:
    name = "YonBIP"

    def __init__(self, config: YonyouConfig, client: httpx.AsyncClient) -> None:
        self.config = config
        self.client = client
        self.codes: Codes = config.codes()
        self.base = config.base_url.rstrip("/")
        if config.token_url:
            self.auth = config.token_url.rstrip("/")
        else:
            parts = urlsplit(config.base_url)
            self.auth = f"{parts.scheme}://{parts.netloc}/iuap-api-auth"
        self.tokens = TokenCache(self._fetch_token, config.token_margin)

    async def _fetch_token(self) -> tuple[str, float]:
        params = {"appKey": self.config.app_key, "timestamp": str(int(time.time() * 1000))}
        params["signature"] = signature(params, self.config.app_secret.get_secret_value())
        url = f"{self.auth}{TOKEN_PATH}"
        answer = await call(self.client, "GET", url, "YonBIP getAccessToken", params)
        code = code_of(answer, "code")
        data = answer.get("data")
        token = data.get("access_token") if isinstance(data, dict) else None
        if code == TOKEN_OK and isinstance(token, str) and token:
            try:
                lifetime = max(1.0, float(data.get("expire", 0)))  # type: ignore[union-attr]
            except (TypeError, ValueError):
                lifetime = 0.0
            return token, lifetime or self.config.token_lifetime
        message = message_of(answer, "message", "msg") or "no access_token in the answer"
        if code in self.codes.busy:
            raise Stop(RetryLater(f"YonBIP getAccessToken: busy, code {code}: {message}"))
        raise Stop(
            Park(
                f"YonBIP refused getAccessToken (code {code or '-'}: {message}); check "
                "app_key and app_secret (the signature is made with the secret) and the clock"
            )
        )

    async def write(self, request: DeliveryRequest, token: str) -> Outcome:
        url = f"{self.base}{self.config.path}"
        answer = await call(
            self.client,
            "POST",
            url,
            "YonBIP",
            {"access_token": token},
            request.body_json(),
            {"Idempotency-Key": request.idempotency_key},
        )
        code = code_of(answer, "code")
        message = message_of(answer, "message", "msg") or "(no message)"
        if code in self.codes.success:
            detail: dict[str, Any] = {"code": code}
            data = answer.get("data")
            if isinstance(data, dict) and isinstance(data.get("id"), str | int):
                detail["id"] = data["id"]
            return Delivered(200, detail)
        if code in self.codes.token:
            raise TokenRefused(token, f"code {code}: {message}")
        if code in self.codes.busy:
            return RetryLater(f"YonBIP: busy, code {code}: {message}")
        return Park(f"YonBIP: code {code or '-'}: {message}")

    def forget(self, request: DeliveryRequest) -> None:
        """Nothing is kept per delivery."""

    def timed_out(self, request: DeliveryRequest, seconds: float) -> RetryLater:
        return RetryLater(f"YonBIP: no answer within {seconds:g}s")
