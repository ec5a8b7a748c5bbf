"""A Kingdee K/3 Cloud (金蝶云星空) WebAPI stand-in, as strict as the real one where it counts.

Every call is ``POST {base}/Kingdee.BOS.WebApi.ServicesStub.<Service>.<Op>.common.kdsvc``
with a JSON body, answered HTTP 200 whatever happened (the outcome is in the body):

- ``AuthService.ValidateUser`` (``{"acctid", "username", "password", "lcid"}`` or the older
  ``{"parameters": [acctid, username, password, lcid]}``) and ``AuthService.LoginByAppSecret``
  (``{"acctid", "username", "appid", "appsecret", "lcid"}`` or ``parameters``): a good login
  answers ``LoginResultType`` 1 with ``KDSVCSessionId`` and sets the cookie
  ``kdservice-sessionid``; a bad one answers ``LoginResultType`` 0 with a ``Message``.
- ``DynamicFormService.Save`` (``{"formid", "data": {"Model": ..., "IsAutoSubmitAndAudit"}}``
  or ``{"parameters": [formid, "<data as JSON text>"]}``), ``Submit``, ``Audit`` and ``View``
  (``data``: ``{"Numbers": [...]}`` / ``{"Number": ...}``), only with a live session cookie:
  without one, ``IsSuccess`` false, ``ErrorCode`` 500, "会话信息已丢失，请重新登录".
- ``DynamicFormService.ExecuteBillQuery`` (``{"data": {"FormId", "FieldKeys", "FilterString",
  "OrderString", "TopRowCount", "StartRow", "Limit"}}``), with a live session: the rows of
  the bills put with ``query.put_bill(form_id, fields)``, a list of value lists; a query it
  cannot run answers ``[[{"Result": {"ResponseStatus": {"IsSuccess": false, ...}}}]]``
  (see ``esb.standins.kingdee_query``; what was asked is in ``query.queries``).
- Bill numbers are unique per form: a second ``Save`` of the same ``FBillNo`` answers
  ``单据编号“...”已存在`` against ``FBillNo``, and no second document is made.

Test hooks: ``expire_sessions()``, ``unknown_materials`` (a ``Save`` naming one answers a
field error on ``FMaterialId``), ``fail_next(times, status)`` (HTTP errors, nothing done),
``garble_next(times)`` (HTTP 200 with an HTML page, nothing done),
``lose_next_save_reply(status)`` (the next ``Save`` is done, its answer is an HTTP error),
``delay_s`` (every call waits first), ``login_delay_s``. Everything saved is in
``documents`` (``GET /received``); ``logins`` counts successful logins. Sources of each
detail: the adapter's README (``adapters/esb_kingdee/README.md``).
"""  # noqa: RUF002

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from esb.standins.kingdee_query import BillQuery, QueryError

__all__ = ["SESSION_COOKIE", "STUB", "KingdeeDocument", "KingdeeStandIn"]

log = structlog.get_logger("esb.standins.kingdee")

STUB = "Kingdee.BOS.WebApi.ServicesStub."
SUFFIX = ".common.kdsvc"
SESSION_COOKIE = "kdservice-sessionid"
SESSION_LOST = "会话信息已丢失，请重新登录"  # noqa: RUF001
WRONG_PASSWORD = "用户名或密码错误！"  # noqa: RUF001
UNKNOWN_ACCOUNT = "数据中心不存在或已被禁用！"  # noqa: RUF001
UNKNOWN_MATERIAL = "物料编码不存在"
# Document status (FDocumentStatus): A created, B being audited, C audited, D re-audit.
CREATED, SUBMITTED, AUDITED = "A", "B", "C"


@dataclass
class KingdeeDocument:
    """One saved bill: what Kingdee received (``form_id`` and ``model``) and its state."""

    form_id: str
    id: int
    number: str
    model: dict[str, Any]
    status: str

    def received(self) -> dict[str, Any]:
        """As the scenario's ``expected/kingdee_<form>_<number>.json`` states it."""
        return {"formid": self.form_id, "Model": self.model}


def _json(value: Any, cookies: dict[str, str] | None = None) -> Response:
    response = Response(orjson.dumps(value), media_type="application/json; charset=utf-8")
    for name, cookie in (cookies or {}).items():
        response.set_cookie(name, cookie, path="/", httponly=True)
    return response


def _status(ok: bool, errors: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """``Result.ResponseStatus`` as K/3 Cloud answers operations."""
    status: dict[str, Any] = {
        "ErrorCode": 0 if ok else 500,
        "IsSuccess": ok,
        "Errors": errors or [],
        "SuccessEntitys": extra.pop("entities", []),
        "SuccessMessages": [],
        "MsgCode": 0,
    }
    return {"Result": {"ResponseStatus": status, **extra}}


def _error(message: str, field_name: str | None = None, index: int = 0) -> dict[str, Any]:
    return {"FieldName": field_name, "Message": message, "DIndex": index}


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


@dataclass
class KingdeeStandIn:
    """The WebAPI of one K/3 Cloud site. ``users``: ``(acct_id, username) -> password``;
    ``apps``: ``(acct_id, username, app_id) -> app_secret``."""

    users: dict[tuple[str, str], str] = field(default_factory=dict)
    apps: dict[tuple[str, str, str], str] = field(default_factory=dict)
    unknown_materials: set[str] = field(default_factory=set)
    delay_s: float = 0.0
    login_delay_s: float = 0.0
    documents: list[KingdeeDocument] = field(default_factory=list)
    logins: int = 0
    refused_logins: int = 0
    calls: list[str] = field(default_factory=list)  # "<Service>.<Op>" of every call
    sessions: dict[str, str] = field(default_factory=dict)  # session id -> acct id
    query: BillQuery = field(default_factory=BillQuery)
    _failures: deque[int] = field(default_factory=deque)
    _garbled: int = 0
    _lose_save_reply: deque[int] = field(default_factory=deque)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100001))

    # --- test hooks -------------------------------------------------------------------
    def expire_sessions(self) -> None:
        """Every session is lost (as after an IIS recycle or a timeout on the real site)."""
        self.sessions.clear()

    def fail_next(self, times: int = 1, status: int = 503) -> None:
        """The next ``times`` calls answer HTTP ``status`` and do nothing."""
        self._failures.extend([status] * times)

    def garble_next(self, times: int = 1) -> None:
        """The next ``times`` calls answer HTTP 200 with a login page (a proxy's) and do nothing."""
        self._garbled += times

    def stop_failing(self) -> None:
        """Forget every failure asked for: HTTP errors, lost replies, unknown materials."""
        self._failures.clear()
        self._garbled = 0
        self._lose_save_reply.clear()
        self.unknown_materials.clear()
        self.delay_s = 0.0

    def lose_next_save_reply(self, status: int = 502) -> None:
        """The next ``Save`` is done, but its caller gets HTTP ``status`` instead of the answer."""
        self._lose_save_reply.append(status)

    def received(self, form_id: str | None = None) -> list[dict[str, Any]]:
        return [d.received() for d in self.documents if form_id in (None, d.form_id)]

    def document(self, form_id: str, number: str) -> KingdeeDocument | None:
        return next(
            (d for d in self.documents if d.form_id == form_id and d.number == number), None
        )

    # --- the app ----------------------------------------------------------------------
    def app(self) -> Starlette:
        """The WebAPI at any prefix (``/k3cloud/...``, ``/demo/kingdee/...``), plus
        ``GET .../received`` (the bills saved) and ``POST .../expire-sessions`` for people."""
        return Starlette(
            routes=[
                Route("/received", self._documents, methods=["GET"]),
                Route("/expire-sessions", self._expire, methods=["POST"]),
                Route("/{path:path}", self._handle, methods=["POST"]),
            ]
        )

    async def _documents(self, request: Request) -> Response:
        return _json(
            [{**d.received(), "Id": d.id, "DocumentStatus": d.status} for d in self.documents]
        )

    async def _expire(self, request: Request) -> Response:
        self.expire_sessions()
        return _json({"expired": True})

    async def _handle(self, request: Request) -> Response:
        name = request.url.path.rsplit("/", 1)[-1]
        if not (name.startswith(STUB) and name.endswith(SUFFIX)):
            return Response("not a K/3 Cloud WebAPI service", status_code=404)
        operation = name[len(STUB) : -len(SUFFIX)]
        self.calls.append(operation)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self._failures:
            return Response("stand-in failing on purpose", status_code=self._failures.popleft())
        if self._garbled:
            self._garbled -= 1
            return Response("<html><body>登录</body></html>", media_type="text/html")
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _json(_status(False, [_error("请求内容不是有效的JSON")]))
        if not isinstance(body, dict):
            return _json(_status(False, [_error("请求内容必须是JSON对象")]))
        if operation == "AuthService.ValidateUser":
            return await self._login(body, ("acctid", "username", "password", "lcid"))
        if operation == "AuthService.LoginByAppSecret":
            return await self._login(body, ("acctid", "username", "appid", "appsecret", "lcid"))
        handler = {
            "DynamicFormService.Save": self._save,
            "DynamicFormService.Submit": self._submit,
            "DynamicFormService.Audit": self._audit,
            "DynamicFormService.View": self._view,
        }.get(operation)
        query = operation == "DynamicFormService.ExecuteBillQuery"
        if handler is None and not query:
            return Response(f"no service {operation} in the stand-in", status_code=404)
        if request.cookies.get(SESSION_COOKIE) not in self.sessions:
            return _json(_status(False, [_error(SESSION_LOST)]))
        if handler is None:
            return self._query(body)
        form_id, data = self._form_call(body)
        if not form_id or data is None:
            return _json(_status(False, [_error("缺少参数 formid 或 data")]))
        return await handler(form_id, data)

    @staticmethod
    def _form_call(body: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
        """``{"formid", "data"}`` or ``{"parameters": [formid, data-as-JSON-text]}``."""
        if "parameters" in body:
            parameters = body["parameters"]
            if not isinstance(parameters, list) or len(parameters) < 2:
                return None, None
            form_id, data = parameters[0], parameters[1]
        else:
            form_id, data = body.get("formid"), body.get("data")
        if isinstance(data, str):
            try:
                data = orjson.loads(data)
            except orjson.JSONDecodeError:
                return None, None
        ok = isinstance(form_id, str) and isinstance(data, dict)
        return (form_id, data) if ok else (None, None)

    async def _login(self, body: dict[str, Any], names: tuple[str, ...]) -> Response:
        if "parameters" in body:
            values = body["parameters"]
            if not isinstance(values, list) or len(values) != len(names):
                return _json(self._refused(f"parameters must be {list(names)}"))
            given = dict(zip(names, values, strict=True))
        else:
            given = {name: body.get(name) for name in names}
        if self.login_delay_s:
            await asyncio.sleep(self.login_delay_s)
        acct, user = str(given["acctid"]), str(given["username"])
        if not any(a == acct for a, *_ in [*self.users, *self.apps]):
            return _json(self._refused(UNKNOWN_ACCOUNT))
        if "password" in given:
            ok = self.users.get((acct, user)) == given["password"]
        else:
            ok = self.apps.get((acct, user, str(given["appid"]))) == given["appsecret"]
        if not ok:
            return _json(self._refused(WRONG_PASSWORD))
        session_id = secrets.token_hex(16)
        self.sessions[session_id] = acct
        self.logins += 1
        log.info("kingdee stand-in: login", acct_id=acct, user=user)
        answer = {
            "Message": None,
            "LoginResultType": 1,
            "KDSVCSessionId": session_id,
            "Context": {"DBid": acct, "UserName": user, "SessionId": session_id, "UserId": 100008},
            "IsSuccessByAPI": True,
        }
        return _json(answer, {SESSION_COOKIE: session_id})

    def _refused(self, message: str) -> dict[str, Any]:
        self.refused_logins += 1
        return {"Message": message, "LoginResultType": 0, "KDSVCSessionId": None, "Context": None}

    def _query(self, body: dict[str, Any]) -> Response:
        """Rows, or an error as ExecuteBillQuery answers one: an operation result in [[...]]."""
        try:
            return _json(self.query.run(body))
        except QueryError as exc:
            return _json([[_status(False, [_error(str(exc))])]])

    async def _save(self, form_id: str, data: dict[str, Any]) -> Response:
        model = data.get("Model")
        if not isinstance(model, dict):
            return _json(_status(False, [_error("参数Model不能为空", "Model")]))
        errors = self._field_errors(model)
        number = model.get("FBillNo")
        if isinstance(number, str) and number and self.document(form_id, number) is not None:
            errors.insert(0, _error(f"单据编号“{number}”已存在", "FBillNo"))
        if errors:
            return _json(_status(False, errors))
        document_id = next(self._ids)
        number = number if isinstance(number, str) and number else f"{form_id}{document_id}"
        status = AUDITED if _truthy(data.get("IsAutoSubmitAndAudit")) else CREATED
        self.documents.append(KingdeeDocument(form_id, document_id, number, model, status))
        log.info("kingdee stand-in: saved", form_id=form_id, number=number, status=status)
        if self._lose_save_reply:
            return Response("the answer was lost", status_code=self._lose_save_reply.popleft())
        entity = {"Id": document_id, "Number": number, "DIndex": 0}
        return _json(_status(True, entities=[entity], Id=document_id, Number=number))

    def _field_errors(self, model: dict[str, Any]) -> list[dict[str, Any]]:
        entries = model.get("FEntity")
        errors = []
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            material = entry.get("FMaterialId") if isinstance(entry, dict) else None
            number = material.get("FNumber") if isinstance(material, dict) else None
            if number in self.unknown_materials:
                errors.append(_error(UNKNOWN_MATERIAL, "FMaterialId", index))
        return errors

    def _named(self, form_id: str, data: dict[str, Any]) -> list[KingdeeDocument] | str:
        """The documents ``Numbers``/``Number`` (or ``Ids``/``Id``) name, or why not."""
        numbers = data.get("Numbers") or ([data["Number"]] if data.get("Number") else [])
        ids = str(data.get("Ids") or data.get("Id") or "")
        found = [d for d in self.documents if d.form_id == form_id and d.number in numbers]
        found += [d for d in self.documents if d.form_id == form_id and str(d.id) in ids.split(",")]
        if not found:
            return "单据不存在"
        return found

    async def _step(self, form_id: str, data: dict[str, Any], before: str, after: str) -> Response:
        named = self._named(form_id, data)
        if isinstance(named, str):
            return _json(_status(False, [_error(named)]))
        wrong = [d for d in named if d.status != before]
        if wrong:
            errors = [_error(f"单据“{d.number}”状态为{d.status}，不能执行此操作") for d in wrong]  # noqa: RUF001
            return _json(_status(False, errors))
        for document in named:
            document.status = after
        entities = [{"Id": d.id, "Number": d.number, "DIndex": i} for i, d in enumerate(named)]
        return _json(_status(True, entities=entities))

    async def _submit(self, form_id: str, data: dict[str, Any]) -> Response:
        return await self._step(form_id, data, CREATED, SUBMITTED)

    async def _audit(self, form_id: str, data: dict[str, Any]) -> Response:
        return await self._step(form_id, data, SUBMITTED, AUDITED)

    async def _view(self, form_id: str, data: dict[str, Any]) -> Response:
        named = self._named(form_id, data)
        if isinstance(named, str):
            return _json(_status(False, [_error(named)]))
        document = named[0]
        result = {"Id": document.id, "BillNo": document.number, "DocumentStatus": document.status}
        answer = _status(True, Result=result)
        return _json(answer)
