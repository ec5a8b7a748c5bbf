"""A JSON response rendered with orjson (fast; handles datetimes, UUIDs and decimals)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from esb.connectors import json_default


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=json_default)
