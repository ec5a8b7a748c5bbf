"""A Yonyou stand-in: U8+ OpenAPI and a YonBIP self-built app's gateway (an ASGI app; tests
serve it on a real socket with ``esb.testing.YonyouServer``, the demo mounts it at
``/demo/yonyou``).

It is as strict as the published protocol (adapters/esb_yonyou/README.md, "Sources"):

- U8: ``/system/token`` checks from_account, app_key and app_secret and issues a token
  living ``token_lifetime`` seconds; ``/system/tradeid`` wants a live token; a write
  (``POST /api/{voucher}/add``) wants a live token, the accounts and a trade id this
  server issued; a trade id (or ``biz_id``) already used is answered as the first time
  and never applied twice; the answer's ``url`` (``/result?requestid=``) says
  "processing" ``processing_polls`` times, then success (the document is made then) or
  the scripted business error.
- YonBIP: ``getAccessToken`` verifies the HmacSHA256 signature and the timestamp's
  window; ``/iuap-api-gateway/...`` wants a live ``access_token``.

Test hooks: ``expire_tokens()``, ``business_error``, ``write_error``, ``busy``,
``fail_status``, ``delay_s``, ``processing_polls``; counters ``token_requests``,
``tradeid_requests``, ``yonbip_token_requests``; what was made: ``documents`` (also
``GET /received``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["YonyouStandIn"]

# The stand-in's codes (README, "Where the stand-in assumes"): errcode / code values.
U8_OK = "0"
U8_BAD_CREDENTIALS = "20001"
U8_TOKEN_EXPIRED = "20002"
U8_BAD_TRADEID = "20010"
U8_BAD_ACCOUNT = "20020"
U8_BUSY = "10001"
U8_PROCESSING = "30002"
BIP_TOKEN_OK = "00000"
BIP_OK = "200"
BIP_BAD_SIGNATURE = "1090003500030"
BIP_TOKEN_INVALID = "1090003500065"
BIP_BUSY = "429"
TIMESTAMP_WINDOW_MS = 10 * 60 * 1000


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json; charset=utf-8")


@dataclass
class Write:
    """One write the stand-in received (applied or not)."""

    path: str
    tradeid: str | None
    biz_id: str | None
    idempotency_key: str | None
    body: Any
    applied: bool = False


@dataclass
class _Pending:
    tradeid: str
    biz_id: str | None
    body: Any
    polls_left: int
    outcome: dict[str, Any] | None = None  # once settled: what every later GET answers


@dataclass
class YonyouStandIn:
    app_key: str = "opa-esb-demo"
    app_secret: str = "u8-app-secret-never-shown"
    from_account: str = "esb-gateway"
    to_account: str = "factory-u8"
    token_lifetime: int = 7200
    processing_polls: int = 0
    business_error: tuple[str, str] | None = None  # the result settles with (code, message)
    write_error: tuple[str, str] | None = None  # the write is answered with (code, message)
    busy: bool = False  # every call answers the busy code
    fail_status: int | None = None  # every call answers this HTTP status
    delay_s: float = 0.0
    token_requests: int = 0
    tradeid_requests: int = 0
    yonbip_token_requests: int = 0
    result_polls: int = 0
    writes: list[Write] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    _tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)
    _tradeids: set[str] = field(default_factory=set)  # issued and not yet used
    _used: dict[str, str] = field(default_factory=dict)  # tradeid or biz_id -> requestid
    _pending: dict[str, _Pending] = field(default_factory=dict)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- lifecycle -------------------------------------------------------------------
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/system/token", self._token, methods=["GET"]),
                Route("/system/tradeid", self._tradeid, methods=["GET"]),
                Route("/api/{name}/{op}", self._write, methods=["POST"]),
                Route("/result", self._result, methods=["GET"]),
                Route(
                    "/iuap-api-auth/open-auth/selfAppAuth/getAccessToken",
                    self._bip_token,
                    methods=["GET"],
                ),
                Route("/iuap-api-gateway/{path:path}", self._bip_call, methods=["POST"]),
                Route("/received", self._received, methods=["GET"]),
            ]
        )

    # -- test hooks ------------------------------------------------------------------
    def expire_tokens(self) -> None:
        """Every token issued so far is expired now (the clients still hold them)."""
        self._tokens = dict.fromkeys(self._tokens, 0.0)

    def finish_processing(self) -> None:
        """Every write still processing settles at its next look."""
        for pending in self._pending.values():
            pending.polls_left = 0

    def seen(self, idempotency_key: str) -> int:
        """Writes received carrying this key (U8 biz_id, YonBIP Idempotency-Key)."""
        return sum(1 for w in self.writes if w.idempotency_key == idempotency_key)

    async def _received(self, request: Request) -> Response:
        """The documents made so far, for people trying the demo."""
        return _json(self.documents)

    # -- shared ----------------------------------------------------------------------
    async def _gate(self) -> Response | None:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail_status is not None:
            return _json({"errcode": "500", "errmsg": "服务暂不可用"}, self.fail_status)
        return None

    def _live(self, token: str | None) -> bool:
        return token is not None and self._tokens.get(token, 0.0) > time.monotonic()

    def _issue_token(self) -> str:
        token = uuid.uuid4().hex
        self._tokens[token] = time.monotonic() + self.token_lifetime
        return token

    # -- U8 --------------------------------------------------------------------------
    async def _token(self, request: Request) -> Response:
        if (failed := await self._gate()) is not None:
            return failed
        self.token_requests += 1
        q = request.query_params
        if self.busy:
            return _json({"errcode": U8_BUSY, "errmsg": "系统繁忙,请稍后再试"})
        if (q.get("from_account"), q.get("app_key"), q.get("app_secret")) != (
            self.from_account,
            self.app_key,
            self.app_secret,
        ):
            return _json({"errcode": U8_BAD_CREDENTIALS, "errmsg": "app_key或app_secret错误"})
        token = self._issue_token()
        return _json(
            {
                "errcode": U8_OK,
                "errmsg": "成功",
                "token": {"id": token, "expiresIn": self.token_lifetime},
            }
        )

    def _account_problem(self, request: Request, *, write: bool) -> Response | None:
        q = request.query_params
        if (q.get("from_account"), q.get("app_key")) != (self.from_account, self.app_key):
            return _json({"errcode": U8_BAD_ACCOUNT, "errmsg": "from_account或app_key错误"})
        if write and q.get("to_account") != self.to_account:
            return _json({"errcode": U8_BAD_ACCOUNT, "errmsg": "to_account未授权"})
        if not self._live(q.get("token")):
            return _json({"errcode": U8_TOKEN_EXPIRED, "errmsg": "token已过期或无效"})
        return None

    async def _tradeid(self, request: Request) -> Response:
        if (failed := await self._gate()) is not None:
            return failed
        self.tradeid_requests += 1
        if (problem := self._account_problem(request, write=False)) is not None:
            return problem
        tradeid = uuid.uuid4().hex
        self._tradeids.add(tradeid)
        return _json({"errcode": U8_OK, "errmsg": "成功", "trade": {"id": tradeid}})

    async def _write(self, request: Request) -> Response:
        if (failed := await self._gate()) is not None:
            return failed
        q = request.query_params
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _json({"errcode": "20040", "errmsg": "请求体不是JSON"})
        tradeid, biz_id = q.get("tradeid"), q.get("biz_id")
        write = Write(request.url.path, tradeid, biz_id, biz_id, body)
        self.writes.append(write)
        if (problem := self._account_problem(request, write=True)) is not None:
            return problem
        if self.busy:
            return _json({"errcode": U8_BUSY, "errmsg": "系统繁忙,请稍后再试"})
        for seen in (tradeid, biz_id):  # a repeat: answered as the first time, not applied
            if seen is not None and seen in self._used:
                return self._accepted(self._used[seen], request)
        if tradeid is None or tradeid not in self._tradeids:
            return _json({"errcode": U8_BAD_TRADEID, "errmsg": "交易号无效,请先获取交易号"})
        if self.write_error is not None:
            code, message = self.write_error
            return _json({"errcode": code, "errmsg": message})
        self._tradeids.discard(tradeid)
        requestid = uuid.uuid4().hex
        self._pending[requestid] = _Pending(tradeid, biz_id, body, self.processing_polls)
        self._used[tradeid] = requestid
        write.applied = True
        return self._accepted(requestid, request)

    def _accepted(self, requestid: str, request: Request) -> Response:
        pending = self._pending[requestid]
        here = request.url  # mounted (e.g. under /demo/yonyou): the prefix is the root_path
        prefix = str(request.scope.get("root_path", "")).rstrip("/")
        url = f"{here.scheme}://{here.netloc}{prefix}/result?requestid={requestid}"
        return _json(
            {"errcode": U8_OK, "errmsg": "提交成功", "tradeid": pending.tradeid, "url": url}
        )

    async def _result(self, request: Request) -> Response:
        if (failed := await self._gate()) is not None:
            return failed
        self.result_polls += 1
        pending = self._pending.get(request.query_params.get("requestid", ""))
        if pending is None:
            return _json({"errcode": "20050", "errmsg": "requestid不存在"})
        if pending.outcome is None:
            if pending.polls_left > 0:
                pending.polls_left -= 1
                return _json({"errcode": U8_PROCESSING, "errmsg": "处理中"})
            pending.outcome = self._settle(pending)
        return _json(pending.outcome)

    def _settle(self, pending: _Pending) -> dict[str, Any]:
        if self.business_error is not None:
            code, message = self.business_error
            return {"errcode": code, "errmsg": message}
        number = f"U8-{next(self._numbers):06d}"
        self.documents.append({"id": number, "tradeid": pending.tradeid, "body": pending.body})
        if pending.biz_id is not None:
            self._used[pending.biz_id] = self._used[pending.tradeid]
        return {"errcode": U8_OK, "errmsg": "成功", "id": number}

    # -- YonBIP ----------------------------------------------------------------------
    async def _bip_token(self, request: Request) -> Response:
        if (failed := await self._gate()) is not None:
            return failed
        self.yonbip_token_requests += 1
        q = dict(request.query_params)
        given = q.pop("signature", "")
        text = "".join(f"{k}{v}" for k, v in sorted(q.items()))
        digest = hmac.new(self.app_secret.encode(), text.encode(), hashlib.sha256).digest()
        if q.get("appKey") != self.app_key:
            return _json({"code": BIP_BAD_SIGNATURE, "message": "appKey不存在"})
        if not hmac.compare_digest(given, base64.b64encode(digest).decode()):
            return _json({"code": BIP_BAD_SIGNATURE, "message": "签名校验失败"})
        try:
            skew = abs(int(q.get("timestamp", "")) - int(time.time() * 1000))
        except ValueError:
            skew = TIMESTAMP_WINDOW_MS + 1
        if skew > TIMESTAMP_WINDOW_MS:
            return _json({"code": BIP_BAD_SIGNATURE, "message": "时间戳已过期"})
        token = self._issue_token()
        data = {"access_token": token, "expire": self.token_lifetime}
        return _json({"code": BIP_TOKEN_OK, "message": "成功!", "data": data})

    async def _bip_call(self, request: Request) -> Response:
        if (failed := await self._gate()) is not None:
            return failed
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _json({"code": "400", "message": "请求体不是JSON"})
        key = request.headers.get("idempotency-key")
        write = Write(request.url.path, None, None, key, body)
        self.writes.append(write)
        if not self._live(request.query_params.get("access_token")):
            return _json({"code": BIP_TOKEN_INVALID, "message": "access_token无效或已过期"})
        if self.busy:
            return _json({"code": BIP_BUSY, "message": "请求过于频繁"})
        if self.write_error is not None:
            code, message = self.write_error
            return _json({"code": code, "message": message})
        write.applied = True
        number = f"BIP-{next(self._numbers):06d}"
        self.documents.append({"id": number, "body": body})
        return _json({"code": BIP_OK, "message": "操作成功", "data": {"id": number}})
