"""Stand-ins for the team's chat robots: a WeCom group robot and a DingTalk custom robot.

They speak the robots' webhook protocols as strictly as the real ones, so the alert
channels are tested (and demonstrated by ``esb serve``) against what the vendors do:

- WeCom: ``POST .../cgi-bin/webhook/send?key=KEY``; an unknown key answers errcode 93000.
- DingTalk: ``POST .../robot/send?access_token=T[&timestamp=MS&sign=S]``; an unknown token
  answers 300001; a robot with a secret wants ``timestamp`` within an hour of its clock
  and ``sign`` = Base64 HMAC-SHA256(secret, "timestamp\\nsecret"), else 310000.
- Both: a ``markdown`` message (WeCom ``content``; DingTalk ``title`` and ``text``), else
  a parameter error; at most ``limit`` messages per ``per_s`` per robot, beyond which
  they answer 45009 (WeCom) / 130101 (DingTalk) and show nothing.

Every call is recorded with the answer it got; ``GET .../received`` lists the messages
a robot showed. Codes are those of the vendors' documentation where it names them
(93000, 45009, 300001, 310000, 130101); the parameter-error codes are the stand-in's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

HOUR_MS = 3600 * 1000


@dataclass
class RobotCall:
    """One call a robot got: which robot, the body, and the answer's errcode."""

    kind: str  # wecom or dingtalk
    robot: str  # the key or access_token
    body: Any
    errcode: int
    errmsg: str
    at: float  # the robot's clock, Unix seconds

    @property
    def text(self) -> str:
        """The message text (WeCom ``content``, DingTalk ``title`` + ``text``)."""
        md = self.body.get("markdown", {}) if isinstance(self.body, dict) else {}
        return "\n".join(str(md.get(k, "")) for k in ("title", "content", "text") if k in md)


@dataclass
class ChatRobots:
    """Robots by key (WeCom) and by access token (DingTalk, with its secret or None)."""

    wecom_keys: set[str] = field(default_factory=set)
    dingtalk: dict[str, str | None] = field(default_factory=dict)
    limit: int = 20
    per_s: float = 60.0
    clock: Callable[[], float] = time.time
    calls: list[RobotCall] = field(default_factory=list)
    _recent: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def shown(self, kind: str | None = None) -> list[RobotCall]:
        """The messages the robots accepted (errcode 0), oldest first."""
        return [c for c in self.calls if c.errcode == 0 and kind in (None, c.kind)]

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/wecom/cgi-bin/webhook/send", self._wecom, methods=["POST"]),
            Route("/dingtalk/robot/send", self._dingtalk, methods=["POST"]),
            Route("/wecom/received", self._listing("wecom"), methods=["GET"]),
            Route("/dingtalk/received", self._listing("dingtalk"), methods=["GET"]),
        ]

    def _answer(self, kind: str, robot: str, body: Any, errcode: int, errmsg: str) -> Response:
        self.calls.append(RobotCall(kind, robot, body, errcode, errmsg, self.clock()))
        return Response(
            orjson.dumps({"errcode": errcode, "errmsg": errmsg}), media_type="application/json"
        )

    def _over_limit(self, robot: str) -> bool:
        """Counts this call; True if the robot had ``limit`` calls in the last window."""
        now, recent = self.clock(), self._recent[robot]
        while recent and recent[0] <= now - self.per_s:
            recent.popleft()
        if len(recent) >= self.limit:
            return True
        recent.append(now)
        return False

    @staticmethod
    async def _body(request: Request) -> Any:
        try:
            return orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None

    async def _wecom(self, request: Request) -> Response:
        key = request.query_params.get("key", "")
        body = await self._body(request)
        if key not in self.wecom_keys:
            return self._answer("wecom", key, body, 93000, "invalid webhook url")
        if not isinstance(body, dict) or body.get("msgtype") not in ("markdown", "text"):
            return self._answer("wecom", key, body, 40008, "invalid message type")
        part = body.get(body["msgtype"])
        content = part.get("content") if isinstance(part, dict) else None
        if not isinstance(content, str) or not content.strip():
            return self._answer("wecom", key, body, 44004, "markdown.content is empty")
        if len(content.encode()) > 4096:
            return self._answer("wecom", key, body, 40058, "markdown.content exceeds 4096 bytes")
        if self._over_limit(f"wecom/{key}"):
            return self._answer("wecom", key, body, 45009, "api freq out of limit")
        return self._answer("wecom", key, body, 0, "ok")

    def _signature_problem(self, secret: str, request: Request) -> str | None:
        stamp, sign = request.query_params.get("timestamp"), request.query_params.get("sign")
        if not stamp or not sign:
            return "sign not match: timestamp and sign are required"
        try:
            ms = int(stamp)
        except ValueError:
            return "invalid timestamp"
        if abs(self.clock() * 1000 - ms) > HOUR_MS:
            return "invalid timestamp: more than an hour from the robot's clock"
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{ms}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        return None if hmac.compare_digest(expected, sign) else "sign not match"

    async def _dingtalk(self, request: Request) -> Response:
        token = request.query_params.get("access_token", "")
        body = await self._body(request)
        if token not in self.dingtalk:
            return self._answer("dingtalk", token, body, 300001, "token is not exist")
        secret = self.dingtalk[token]
        if secret is not None and (problem := self._signature_problem(secret, request)):
            return self._answer("dingtalk", token, body, 310000, problem)
        if not isinstance(body, dict) or body.get("msgtype") not in ("markdown", "text"):
            return self._answer("dingtalk", token, body, 40035, "missing or invalid msgtype")
        part = body.get(body["msgtype"])
        wanted = ("title", "text") if body["msgtype"] == "markdown" else ("content",)
        if not isinstance(part, dict) or not all(
            isinstance(part.get(k), str) and part[k].strip() for k in wanted
        ):
            return self._answer(
                "dingtalk", token, body, 40035, f"{body['msgtype']}: {' and '.join(wanted)} needed"
            )
        if self._over_limit(f"dingtalk/{token}"):
            return self._answer(
                "dingtalk", token, body, 130101, "send too fast, exceed 20 times per minute"
            )
        return self._answer("dingtalk", token, body, 0, "ok")

    def _listing(self, kind: str) -> Callable[[Request], Any]:
        async def listing(request: Request) -> Response:
            items = [{"robot": c.robot, "at": c.at, "body": c.body} for c in self.shown(kind)][
                -100:
            ]
            return Response(orjson.dumps(items), media_type="application/json")

        return listing
