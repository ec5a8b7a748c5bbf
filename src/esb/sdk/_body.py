"""Read an HTTP request's body without ever holding more than a bound of it.

A declared ``Content-Length`` beyond the bound is refused before a byte is read; a
body that streams on past it is refused as soon as it does, so a caller cannot make
the gateway buffer what it will refuse anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from esb.errors import PayloadTooLarge

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = ["read_body"]


async def read_body(request: Request, limit: int) -> bytes:
    """The body of ``request``, or PayloadTooLarge (413) once it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"{declared} bytes, more than the {limit} allowed")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise PayloadTooLarge(f"more than the {limit} bytes allowed")
    return bytes(data)
