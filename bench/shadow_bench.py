"""What a parallel run costs a worker's CPU per delivery, beside the live mapping itself.

Three costs, measured on the demo ERP -> MES mapping (``examples/demo-factory``) with
master data from memory, as CPU time, best of interleaved rounds:

- *no shadow*: ``ShadowRunner.observe`` on a route without a shadow, what every
  delivery of a gateway without ``shadow:`` pays (a dictionary lookup);
- *live mapping*: mapping the order once, what every delivery pays anyway;
- *shadow work*: what a delivery with a candidate mapping adds in the background:
  mapping again with the candidate and comparing the two bodies with masks (the
  record's group-committed statements and a test endpoint's call are not in it).

    .venv/bin/python bench/shadow_bench.py [--repeat 7] [--lines 2 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from esb.batching import GroupCommit
from esb.config.loader import load_config
from esb.connectors import load_registry
from esb.live import LiveConfig
from esb.mapping import MappingContext, StaticXref
from esb.metrics import Metrics
from esb.shadow.compare import judge
from esb.shadow.masks import Masks
from esb.shadow.runner import ShadowRunner
from esb.task import DeliveryTask

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-factory"
MAPPING = "sales-order-to-mes"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from mapping_bench import order_with  # noqa: E402  (the same orders as the mapping bench)


def _best(run: Callable[[], object], number: int, best: float) -> float:
    started = time.process_time()
    for _ in range(number):
        run()
    return min(best, (time.process_time() - started) / number)


def _task(order: dict[str, Any]) -> DeliveryTask:
    now = datetime.now(UTC)
    return DeliveryTask(1, uuid4(), uuid4(), "sales-order", "mes", "sales_order",
                        order["OrderNo"], 1, 1, now, "application/json", order)  # fmt: skip


def _runner() -> ShadowRunner:
    env = {**os.environ, "ESB_DATA_DIR": "var", "DROP_DIR": "var/drop"}
    registry = load_registry()
    live = LiveConfig(DEMO, registry, load_config(DEMO, registry, env), env)
    recorder: GroupCommit[Any, None] = GroupCommit(lambda batch: [None] * len(batch))
    return ShadowRunner(live, None, recorder, Metrics(), "Asia/Shanghai")  # type: ignore[arg-type]


def measure(lines: int, repeat: int) -> tuple[float, float, float]:
    """Seconds of CPU per delivery: (no shadow, live mapping, shadow work)."""
    mapping = load_mappings().get(MAPPING)
    ctx = MappingContext(StaticXref.from_masterdata(DEMO / "masterdata"))
    order = order_with(lines)
    live = mapping(order, ctx)
    masks = Masks(["remark", "items[*].uom"])
    runner, task = _runner(), _task(order)
    runs = {
        "none": lambda: runner.observe(task, live),
        "live": lambda: mapping(order, ctx),
        "shadow": lambda: judge(live, mapping(order, ctx), masks),
    }
    best = dict.fromkeys(runs, float("inf"))
    numbers = {name: timeit.Timer(run).autorange()[0] for name, run in runs.items()}
    for _ in range(repeat):
        for name, run in runs.items():
            best[name] = _best(run, numbers[name], best[name])
    return best["none"], best["live"], best["shadow"]


def load_mappings() -> Any:
    from esb.mapping import load_mappings as load

    return load(DEMO, os.environ)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="rounds per case; best is kept")
    parser.add_argument("--lines", type=int, nargs="+", default=[2, 200], help="lines per order")
    args = parser.parse_args()
    print(f"mapping `{MAPPING}` (examples/demo-factory), Python {sys.version.split()[0]}\n")
    print("| lines | no shadow (µs) | live mapping (µs) | shadow work (µs) | shadow / live |")
    print("|---:|---:|---:|---:|---:|")
    for lines in args.lines:
        none, live, shadow = measure(lines, args.repeat)
        print(f"| {lines} | {none * 1e6:.2f} | {live * 1e6:,.1f} | {shadow * 1e6:,.1f} "
              f"| {shadow / live:.0%} |")  # fmt: skip


if __name__ == "__main__":
    main()
