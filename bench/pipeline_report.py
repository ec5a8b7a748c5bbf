"""The pipeline benchmark's Markdown table: metrics down, mode x system across, with ratios."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class ResultLike(Protocol):
    mode: str
    system: str
    accepted_per_s: float
    delivered_per_s: float
    saturation_ms: dict[str, float | None]
    drain_s: float
    drain_per_s: float | None
    rate: float
    ingress_ms: dict[str, float | None]
    delivered_ms: dict[str, float | None]
    accepted: int
    refused: int
    refused_by_status: dict[str, int]
    transport_errors: dict[str, int]
    lost: int
    duplicates: int
    complete: bool
    cpu: dict[str, float]


Getter = Callable[[ResultLike], float | None]

#: (label, value, whether gateway/reference is meaningful)
ROWS: list[tuple[str, Getter, bool]] = [
    ("accepted msg/s at saturation", lambda r: r.accepted_per_s, True),
    ("delivered msg/s during saturation", lambda r: r.delivered_per_s, True),
    ("backlog drained after saturation, s", lambda r: round(r.drain_s, 1), False),
    ("delivered msg/s while draining (ingress idle)", lambda r: r.drain_per_s, True),
    ("ingress p50 ms at saturation (closed loop)", lambda r: r.saturation_ms.get("p50"), True),
    ("ingress p99 ms at saturation (closed loop)", lambda r: r.saturation_ms.get("p99"), True),
    ("open-loop rate, msg/s", lambda r: r.rate, False),
    ("ingress p50 ms (open loop)", lambda r: r.ingress_ms.get("p50"), True),
    ("ingress p99 ms (open loop)", lambda r: r.ingress_ms.get("p99"), True),
    ("accepted -> delivered p50 ms (open loop)", lambda r: r.delivered_ms.get("p50"), True),
    ("accepted -> delivered p99 ms (open loop)", lambda r: r.delivered_ms.get("p99"), True),
    ("accepted (all phases)", lambda r: r.accepted, False),
    ("lost", lambda r: r.lost, False),
    ("duplicates", lambda r: r.duplicates, False),
    ("refused or failed requests", lambda r: r.refused, False),
    (
        "CPU % (100 = one core) during saturation: pipeline process",
        lambda r: r.cpu.get(r.system),
        True,
    ),
    ("... PostgreSQL (server + own backends)", lambda r: r.cpu.get("postgres"), False),
    ("... RabbitMQ", lambda r: r.cpu.get("rabbitmq"), False),
    ("... sink", lambda r: r.cpu.get("sink"), False),
    ("... load generator", lambda r: r.cpu.get("loadgen"), False),
    ("... other processes on the machine", lambda r: r.cpu.get("others"), False),
    ("... whole machine", lambda r: r.cpu.get("machine"), False),
]


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"


def _ratio(gateway: float | None, reference: float | None) -> str:
    if gateway is None or not reference:
        return "-"
    return f"{gateway / reference:.2f}"


def _pair(results: list[Any], mode: str) -> tuple[Any, Any] | None:
    found = {r.system: r for r in results if r.mode == mode}
    if "gateway" in found and "reference" in found:
        return found["reference"], found["gateway"]
    return None


def table(results: list[Any]) -> list[str]:
    modes = [m for m in ("embedded", "production") if _pair(results, m)]
    head = ["metric"]
    for mode in modes:
        head += [f"{mode}: reference", f"{mode}: gateway", "gateway / reference"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, get, ratio in ROWS:
        cells = [label]
        for mode in modes:
            pair = _pair(results, mode)
            assert pair is not None
            reference, gateway = get(pair[0]), get(pair[1])
            cells += [_fmt(reference), _fmt(gateway), _ratio(gateway, reference) if ratio else ""]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def targets(results: list[Any]) -> list[str]:
    """The issue's targets for production mode."""
    pair = _pair(results, "production")
    if pair is None:
        return []
    reference, gateway = pair
    throughput = (
        gateway.delivered_per_s / reference.delivered_per_s if reference.delivered_per_s else 0
    )
    ref_p99, gw_p99 = reference.ingress_ms.get("p99"), gateway.ingress_ms.get("p99")
    latency = gw_p99 / ref_p99 if gw_p99 is not None and ref_p99 else float("inf")
    return [
        "Targets (production mode):",
        f"- delivered throughput >= 50 % of the reference: {throughput:.0%} -> "
        f"{verdict(throughput >= 0.5)}",
        f"- ingress p99 <= 2x the reference's: {latency:.2f}x -> {verdict(latency <= 2)}",
        f"- zero lost: {gateway.lost} lost -> {verdict(gateway.lost == 0 and gateway.complete)}",
    ]


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def render(run: dict[str, Any], results: list[Any]) -> str:
    notes = [r for r in results if not r.complete]
    lines = [
        f"Pipeline benchmark, {run['date']}, commit {run['commit']}, {run['cores']} cores, "
        f"load average before {' '.join(run['loadavg_before'])}; RabbitMQ queue type "
        f"{run['queue_type']}; {run['gateway']}; {run['connections']} connections x "
        f"{run['duration_s']:g} s saturation, open loop {run['open_duration_s']:g} s.",
        f"Command: `{run['command']}`",
        "",
        *table(results),
        "",
        *targets(results),
    ]
    lines += [
        f"Note: {r.mode} {r.system}: the last drain gave up while orders were missing."
        for r in notes
    ]
    lines += [
        f"Note: {r.mode} {r.system}: refused or failed requests by HTTP status "
        f"(0 = no answer): {r.refused_by_status}; transport errors: {r.transport_errors}"
        for r in results
        if r.refused
    ]
    return "\n".join(lines)
