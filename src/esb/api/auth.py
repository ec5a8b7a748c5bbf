"""Who is calling: a system (by its bearer key) or an operator (the admin key)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from esb.errors import Forbidden, Unauthenticated


@dataclass(frozen=True)
class Caller:
    system: str | None  # the calling system; None for an operator
    admin: bool = False

    @property
    def name(self) -> str:
        return "admin" if self.admin else str(self.system)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("send Authorization: Bearer <key>")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send Authorization: Bearer <key>")
    return token.strip()


async def authenticate(request: Request) -> Caller:
    """Async on purpose: a sync dependency would cost a thread hop on every request."""
    token = _bearer(request)
    admin_key: str | None = request.app.state.admin_key
    if admin_key is not None and hmac.compare_digest(token.encode(), admin_key.encode()):
        return Caller(system=None, admin=True)
    system = request.app.state.live.config.authenticate(token)
    if system is None:
        raise Unauthenticated("unknown key")
    return Caller(system=system)


async def require_admin(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
    if not caller.admin:
        raise Forbidden("this endpoint needs the admin key (ESB_ADMIN_KEY)")
    return caller


CallerDep = Annotated[Caller, Depends(authenticate)]
AdminDep = Annotated[Caller, Depends(require_admin)]
