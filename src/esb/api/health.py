"""Liveness, readiness and the health report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from esb.api import inputs
from esb.api.auth import AdminDep
from esb.api.deps import (
    LiveDep,
    ReadinessDep,
    ReadsDep,
    ReconcilerDep,
    SettingsDep,
    ShadowsDep,
)
from esb.api.responses import JsonResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> JsonResponse:
    return JsonResponse({"status": "ok"})


@router.get("/readyz", summary="The database (and, when used, RabbitMQ) can be reached")
async def readyz(readiness: ReadinessDep) -> JsonResponse:
    checks = await readiness()
    ready = all(v == "ok" for v in checks.values())
    return JsonResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/v1/report", summary="Per interface and target: volumes, success rate, latency")
async def report(
    reads: ReadsDep,
    live: LiveDep,
    settings: SettingsDep,
    shadows: ShadowsDep,
    _: AdminDep,
    window: Annotated[str, Query(description="e.g. 15m, 1h, 1d")] = "15m",
) -> JsonResponse:
    inputs.window("window", window)
    report = await reads.report(live.config, window)
    report["configuration"] = live.status()  # a refused reload, until a good one
    report["time_zone"] = settings.time_zone  # the dashboard shows times in the factory's zone
    report["shadows"] = await shadows.today()  # the parallel runs: none declared, no query
    return JsonResponse(report)


@router.post("/v1/reconcile", summary="Run the consistency check now and say what it did")
async def reconcile_now(reconciler: ReconcilerDep, _: AdminDep) -> JsonResponse:
    return JsonResponse(await reconciler.run("api"))
