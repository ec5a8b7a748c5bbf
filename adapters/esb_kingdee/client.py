"""One K/3 Cloud site as the connector sees it: one login session, shared by every delivery.

The session is the cookie ``kdservice-sessionid`` (and whatever other cookies the login
sets). Concurrent deliveries wait on one lock for one login; a lost session is renewed
once, by whoever sees it first (the others find the new one), and the call repeated. A
refused login is remembered for ``login_pause``: a wrong password tried by every delivery
would lock the Kingdee user.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import orjson
import structlog

from esb.sdk import dumps, shorten
from esb_kingdee.answers import Answer, Rows, read_answer, read_rows
from esb_kingdee.config import KingdeeSite

__all__ = ["SESSION_COOKIE", "KingdeeClient", "Refused", "Transient"]

log = structlog.get_logger("esb.kingdee")

STUB = "Kingdee.BOS.WebApi.ServicesStub."
SESSION_COOKIE = "kdservice-sessionid"
TRANSIENT_STATUS = frozenset({408, 425, 429})
SHOWN = 300
T = TypeVar("T")


class Transient(Exception):
    """May pass by itself: the delivery is tried again later."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


class Refused(Exception):
    """Will not pass by itself: the delivery is parked with this reason."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


class KingdeeClient:
    """Login, session and form calls against one site (built lazily inside the loop)."""

    def __init__(self, config: KingdeeSite) -> None:
        self.config = config
        self.base = config.url.rstrip("/")
        self._http: httpx.AsyncClient | None = None
        self._lock: asyncio.Lock | None = None
        self._cookies: dict[str, str] | None = None
        self._generation = 0
        self._refused: tuple[float, str] | None = None
        self.logins = 0

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            timeout = self.config.timeout
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(timeout.total, connect=timeout.connect),
                verify=self.config.verify_tls,
                follow_redirects=False,
                headers={"User-Agent": "esb-gateway", "Content-Type": "application/json"},
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _post(
        self, operation: str, payload: Any, cookies: dict[str, str] | None
    ) -> tuple[Any, httpx.Response]:
        """POST one service call; HTTP 5xx/408/429 are transient, other non-200 refused."""
        url = f"{self.base}/{STUB}{operation}.common.kdsvc"
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        response = await self._client().post(url, content=dumps(payload), headers=headers)
        self._client().cookies.clear()  # the session is ours to keep, not the client's jar
        status = response.status_code
        if status >= 500 or status in TRANSIENT_STATUS:
            raise Transient(f"HTTP {status} from Kingdee {operation}{_excerpt(response)}", status)
        if status != 200:
            raise Refused(
                f"HTTP {status} from Kingdee {operation}{_excerpt(response)} "
                f"(is url the site's base, e.g. http://host/k3cloud?)",
                status,
            )
        try:
            return orjson.loads(response.content), response
        except orjson.JSONDecodeError:
            raise Refused(
                f"Kingdee {operation} answered HTTP 200 without JSON{_excerpt(response)} "
                f"(is url the site's base, e.g. http://host/k3cloud?)",
                status,
            ) from None

    # --- the session ------------------------------------------------------------------
    def _lock_now(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def session(self) -> tuple[int, dict[str, str]]:
        """The current session (logging in if there is none): its generation and cookies."""
        if self._cookies is None:
            async with self._lock_now():
                if self._cookies is None:
                    await self._login()
        assert self._cookies is not None
        return self._generation, self._cookies

    async def renew(self, lost: int) -> tuple[int, dict[str, str]]:
        """Log in again unless another delivery already replaced session ``lost``."""
        async with self._lock_now():
            if self._generation == lost or self._cookies is None:
                self._cookies = None
                log.info("kingdee session lost: logging in again", url=self.base)
                await self._login()
        assert self._cookies is not None
        return self._generation, self._cookies

    def _login_call(self) -> tuple[str, Any, str]:
        c = self.config
        if c.app_id is not None and c.app_secret is not None:
            names = ["acctid", "username", "appid", "appsecret", "lcid"]
            values: list[Any] = [c.acct_id, c.username, c.app_id, c.app_secret.get_secret_value()]
            operation, how = "AuthService.LoginByAppSecret", f"app {c.app_id!r}"
        else:
            assert c.password is not None
            names = ["acctid", "username", "password", "lcid"]
            values = [c.acct_id, c.username, c.password.get_secret_value()]
            operation, how = "AuthService.ValidateUser", "password"
        values.append(c.lcid)
        payload: Any = (
            {"parameters": values}
            if c.envelope == "parameters"
            else dict(zip(names, values, strict=True))
        )
        return operation, payload, how

    async def _login(self) -> None:
        c = self.config
        if self._refused is not None and time.monotonic() - self._refused[0] < c.login_pause:
            raise Refused(f"{self._refused[1]} (not tried again for {c.login_pause:g}s)")
        operation, payload, how = self._login_call()
        body, response = await self._post(operation, payload, None)
        who = f"user {c.username!r} of data centre {c.acct_id!r} ({how})"
        kind = body.get("LoginResultType") if isinstance(body, dict) else None
        if kind != 1:
            message = body.get("Message") if isinstance(body, dict) else None
            said = shorten(str(message)) if message else f"LoginResultType {kind!r}, no message"
            reason = (
                f"Kingdee refused the login of {who}: {said}; check the user, its password or "
                "app secret and acct_id"
            )
            self._refused = (time.monotonic(), reason)
            raise Refused(reason)
        cookies = {name: value for name, value in response.cookies.items() if value}
        if SESSION_COOKIE not in cookies and body.get("KDSVCSessionId"):
            cookies[SESSION_COOKIE] = str(body["KDSVCSessionId"])
        if SESSION_COOKIE not in cookies:
            raise Refused(f"Kingdee let {who} in but gave no session ({SESSION_COOKIE})")
        self._cookies = cookies
        self._generation += 1
        self._refused = None
        self.logins += 1
        log.info("kingdee login", url=self.base, acct_id=c.acct_id, user=c.username)

    # --- form operations --------------------------------------------------------------
    def _form_payload(self, form_id: str, data: dict[str, Any]) -> Any:
        if self.config.envelope == "parameters":
            return {"parameters": [form_id, dumps(data).decode()]}
        return {"formid": form_id, "data": data}

    async def _form(self, operation: str, payload: Any, cookies: dict[str, str]) -> Answer:
        return await self._read(
            operation, payload, cookies, read_answer, "something that is no operation result"
        )

    async def _query(self, operation: str, payload: Any, cookies: dict[str, str]) -> Answer | Rows:
        return await self._read(
            operation, payload, cookies, read_rows, "neither rows nor an operation result"
        )

    async def _read(
        self,
        operation: str,
        payload: Any,
        cookies: dict[str, str],
        reader: Callable[[Any], T | None],
        otherwise: str,
    ) -> T:
        """One call, its body read by ``reader``; a body it cannot read is refused."""
        body, response = await self._post(operation, payload, cookies)
        found = reader(body)
        if found is None:
            raise Refused(f"Kingdee {operation} answered {otherwise}{_excerpt(response)}")
        return found

    async def _in_session(
        self,
        operation: str,
        payload: Any,
        send: Callable[[str, Any, dict[str, str]], Awaitable[T]],
    ) -> T:
        """One call in the session; a lost session is renewed and the call repeated once
        (neither a failed attempt nor a reason to park)."""
        generation, cookies = await self.session()
        answer = await send(operation, payload, cookies)
        if isinstance(answer, Answer) and answer.session_lost:
            generation, cookies = await self.renew(generation)
            answer = await send(operation, payload, cookies)
            if isinstance(answer, Answer) and answer.session_lost:
                raise Transient(
                    f"Kingdee lost the session again right after a login: {answer.reason()}"
                )
        return answer

    async def call(self, service_op: str, form_id: str, data: dict[str, Any]) -> Answer:
        """``DynamicFormService.<Op>`` on ``form_id`` (see ``_in_session``)."""
        operation = f"DynamicFormService.{service_op}"
        return await self._in_session(operation, self._form_payload(form_id, data), self._form)

    async def query(self, data: dict[str, Any]) -> Answer | Rows:
        """``DynamicFormService.ExecuteBillQuery``: the rows, or the operation result Kingdee
        answered instead (an error; a lost session is renewed as in ``call``)."""
        payload = (
            {"parameters": [dumps(data).decode()]}
            if self.config.envelope == "parameters"
            else {"data": data}
        )
        return await self._in_session("DynamicFormService.ExecuteBillQuery", payload, self._query)


def _excerpt(response: httpx.Response) -> str:
    text = response.text.strip()
    return f": {text[:SHOWN]}" if text else ""
