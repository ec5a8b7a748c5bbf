"""The ingress route, ``POST /v1/messages/{message_type}``, reached without FastAPI's router.

Each request through the router is matched against every route of fifteen routers, then
passes FastAPI's exception and exit-stack middlewares: 6-8 % of the API process's CPU at
saturation, for a route whose endpoint is a plain Starlette one anyway (``post_message``).
This middleware sits inside ``RefuseNulInUrl`` and hands those requests to the endpoint
directly; what the endpoint raises goes to the app's own handlers, so every answer is the
one the router would have given. The route stays registered: OpenAPI describes it, and
a request under a root path still takes it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from esb.api.messages import INGRESS_PATH, post_message

_INGRESS = compile_path(INGRESS_PATH)[0]  # the regex the router itself matches it with
Handler = Callable[[Request, Exception], Awaitable[Response] | Response]


class IngressShortcut:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = (
            _INGRESS.match(scope["path"])
            if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path")
            else None
        )
        if match is None:
            await self.app(scope, receive, send)
            return
        scope["path_params"] = match.groupdict()
        request = Request(scope, receive, send)
        try:
            response: Response = await post_message(request)
        except Exception as exc:
            handler = _handler(scope["app"].exception_handlers, exc)
            if handler is None:
                raise  # a bug: the server error middleware answers 500 and logs it
            answer = handler(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
        await response(scope, receive, send)


def _handler(handlers: Mapping[Any, Handler], exc: Exception) -> Handler | None:
    """The app's handler for ``exc``, as Starlette's exception middleware finds it (the
    one for ``Exception`` belongs to the server error middleware, outside this one)."""
    for kind in type(exc).__mro__:
        if kind is Exception:
            return None
        if kind in handlers:
            return handlers[kind]
    return None
