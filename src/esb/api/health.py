"""Liveness, readiness and the health report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import text

from esb.api import inputs
from esb.api.auth import AdminDep
from esb.api.responses import JsonResponse
from esb.errors import StoreUnavailable
from esb.report import build_report
from esb.store.engine import transaction
from esb.store.reconcile import last_run

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> JsonResponse:
    return JsonResponse({"status": "ok"})


@router.get("/readyz", summary="The database (and, when used, RabbitMQ) can be reached")
async def readyz(request: Request) -> JsonResponse:
    gateway = request.app.state.gateway
    checks = {"database": "ok"}
    try:
        async with transaction(gateway.engine) as conn:
            await conn.execute(text("SELECT 1"))
    except StoreUnavailable:
        checks["database"] = "unavailable"
    if gateway.broker is not None and (gateway.relay is not None or gateway.worker is not None):
        checks["broker"] = "ok" if gateway.broker.link_up else "unavailable"
    ready = all(v == "ok" for v in checks.values())
    return JsonResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/v1/report", summary="Per interface and target: volumes, success rate, latency")
async def report(
    request: Request,
    _: AdminDep,
    window: Annotated[str, Query(description="e.g. 15m, 1h, 1d")] = "15m",
) -> JsonResponse:
    inputs.window("window", window)
    gateway = request.app.state.gateway
    report = await build_report(gateway.engine, gateway.config, window)
    report["consistency_check"] = await last_run(gateway.engine)
    report["configuration"] = gateway.live.status()  # a refused reload, until a good one
    return JsonResponse(report)


@router.post("/v1/reconcile", summary="Run the consistency check now and say what it did")
async def reconcile_now(request: Request, _: AdminDep) -> JsonResponse:
    gateway = request.app.state.gateway
    result = await gateway.reconcile_now("api")
    gateway.notify()
    return JsonResponse(result)
