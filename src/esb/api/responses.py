"""A JSON response rendered with orjson (fast; handles datetimes, UUIDs and decimals), and
whether a caller asked for CSV instead."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from esb.connectors import json_default


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=json_default)


def wants_csv(request: Request) -> bool:
    """``Accept: text/csv`` (among others, unless refused with q=0) asks for CSV."""
    for part in request.headers.get("accept", "").split(","):
        media, _, params = part.strip().partition(";")
        if media.strip().lower() == "text/csv":
            return "q=0" not in params.replace(" ", "") or "q=0." in params.replace(" ", "")
    return False
