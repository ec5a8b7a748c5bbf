"""The health port of ``esb worker`` and ``esb relay`` (``ESB_METRICS_PORT``): ``/healthz``,
``/readyz`` and ``/metrics``.

A worker or a relay serves no API, yet an orchestrator must tell a process that runs
(liveness) from one that can do its job (readiness: the database and RabbitMQ, the same
checks as ``/readyz`` of ``esb serve``), and Prometheus scrapes it. The process then
runs under uvicorn like ``esb serve``: the app's lifespan starts and stops the
gateway's parts, and uvicorn handles SIGTERM.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from esb.config.loader import GatewayConfig
from esb.connectors import load_registry
from esb.runtime import Gateway
from esb.settings import Settings


def create_probe_app(
    settings: Settings, config: GatewayConfig, *, relay: bool, worker: bool
) -> Starlette:
    """The parts of a worker or relay process, behind its three probe endpoints."""
    gateway = Gateway(settings, config, load_registry())

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await gateway.start(relay=relay, worker=worker)
        try:
            yield
        finally:
            await gateway.stop()

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        checks = await gateway.ready()
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(gateway.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    routes = [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]
    return Starlette(routes=routes, lifespan=lifespan)
