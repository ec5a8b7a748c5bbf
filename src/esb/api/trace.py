"""Tracing: one business document across interfaces on one timeline (what the gateway did
and what operators did), and chart series."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from esb.api import inputs
from esb.api.auth import AdminDep
from esb.api.deps import ConfigDep, ReadsDep
from esb.api.responses import JsonResponse
from esb.config.gateway import GatewayConfig
from esb.errors import FieldProblem, ValidationFailed
from esb.store.engine import utcnow

router = APIRouter(tags=["tracing"])
MAX_POINTS = 2000


def _hop(delivery: dict[str, Any], deadline: float | None, now: datetime) -> None:
    """Mark a delivery against its target's deadline: due_at, late, overdue."""
    if deadline is None:
        return
    due = delivery["created_at"] + timedelta(seconds=deadline)
    done = delivery["delivered_at"]
    delivery["due_at"] = due
    delivery["late"] = done is not None and done > due
    given_up = delivery["status"] in ("discarded", "superseded")  # never to be delivered
    delivery["overdue"] = done is None and not given_up and now > due


#: An operator's action as a timeline event (past tense, like "delivered").
ACTION_EVENTS = {"replay": "replayed", "discard": "discarded", "correct": "corrected"}


def _operator_events(base: dict[str, Any], delivery: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            **base,
            "at": act["at"],
            "event": ACTION_EVENTS.get(act["action"], act["action"]),
            "target": delivery["target"],
            "actor": act["actor"],
            "detail": f"{act['actor']}: {act['reason']}",
            "changes": act["changes"],
        }
        for act in delivery["actions"]
    ]


def _events(message: dict[str, Any]) -> list[dict[str, Any]]:
    base = {"message_id": message["id"], "interface": message["interface"]}
    events = [
        {
            **base,
            "at": message["received_at"],
            "event": "received",
            "detail": f"{message['message_type']} from {message['source']}",
        }
    ]
    for d in message["deliveries"]:
        events.extend(_operator_events(base, d))
        for a in d["attempt_log"]:
            events.append(
                {
                    **base,
                    "at": a["started_at"],
                    "event": a["outcome"],
                    "target": d["target"],
                    "detail": a["error"] or a["status_code"],
                }
            )
        if d.get("overdue"):
            events.append(
                {
                    **base,
                    "at": d["due_at"],
                    "event": "overdue",
                    "target": d["target"],
                    "detail": f"not delivered by {d['due_at'].isoformat()}",
                }
            )
    return events


def _deadline(config: GatewayConfig, interface: str, target: str) -> float | None:
    spec = config.interfaces.get(interface)
    return spec.targets[target].deadline if spec and target in spec.targets else None


@router.get("/v1/trace", summary="Every message and delivery about one business key")
async def trace(
    reads: ReadsDep,
    config: ConfigDep,
    _: AdminDep,
    key: Annotated[str, Query(min_length=1, max_length=200)],
) -> JsonResponse:
    now = utcnow()
    found = await reads.trace(key)
    for message in found:
        for delivery in message["deliveries"]:
            _hop(delivery, _deadline(config, message["interface"], delivery["target"]), now)
    events = sorted((e for m in found for e in _events(m)), key=lambda e: e["at"])
    return JsonResponse(
        {
            "key": key,
            "messages": found,
            "events": events,
            "overdue": any(d.get("overdue") for m in found for d in m["deliveries"]),
        }
    )


@router.get("/v1/report/series", summary="Attempts, success rate and p95 latency per step")
async def series(
    reads: ReadsDep,
    _: AdminDep,
    window: Annotated[str, Query()] = "1h",
    step: Annotated[str, Query()] = "1m",
) -> JsonResponse:
    window_s, step_s = inputs.window("window", window), inputs.window("step", step)
    buckets = int(window_s // step_s) if step_s > 0 else 0
    if not 0 < buckets <= MAX_POINTS:
        raise ValidationFailed(
            [FieldProblem("step", f"window/step must give 1-{MAX_POINTS} points")]
        )
    since = utcnow() - timedelta(seconds=buckets * step_s)
    data = await reads.series(since, step_s, buckets)
    return JsonResponse(
        {
            "window": window,
            "step_s": step_s,
            "from": since.isoformat(),
            "series": [
                {"interface": i, "target": t, "points": points}
                for (i, t), points in sorted(data.items())
            ],
        }
    )
