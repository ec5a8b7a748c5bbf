"""``GET /metrics`` in the Prometheus text format (this process, or every process sharing
ESB_METRICS_DIR: see esb.metrics)."""

from __future__ import annotations

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import PlainTextResponse, Response

from esb.api.deps import MetricsDep

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    summary="Prometheus metrics (of every process sharing ESB_METRICS_DIR)",
    response_class=PlainTextResponse,  # documented as text/plain: Prometheus' text format
)
async def metrics(registry: MetricsDep) -> Response:
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
