"""The durable pipeline against its floor: the gateway and the reference pipeline, one run.

For each mode (embedded: SQLite; production: PostgreSQL + RabbitMQ) it starts the
sink, then the gateway (``esb serve`` on bench/config) and then the reference
pipeline (bench/reference_pipeline.py) as child processes, each on a fresh database
(and fresh queues), and drives both with the same load:

1. warm-up, then saturation: ``--connections`` closed-loop connections for
   ``--duration`` s -> accepted msg/s, and delivered msg/s at the sink meanwhile;
2. drain: wait until every accepted order reached the sink;
3. open loop at ``--rate`` orders/s (default 100, the same for the reference) -> ingress
   latency from the time each order was due, and accepted -> delivered latency (2xx at
   the client -> arrival at the sink);
4. drain, then count: lost = accepted but never delivered; duplicates.

It prints one Markdown table (and writes results.json and every process log to
``--out``). Every process, database and queue it creates is removed at the end, also
on Ctrl-C. Run it on a quiet machine: the load generator and the sink share the cores.

    .venv/bin/python bench/pipeline_bench.py                 # both modes, about 5 minutes
    .venv/bin/python bench/pipeline_bench.py --modes production --queue-type classic
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop
import yaml
from loadgen import Endpoint, OrderRequests, Phase, closed_loop, open_loop, percentile
from pipeline_harness import (
    Child,
    CpuWatch,
    Postgres,
    delete_broker_objects,
    free_port,
    postgres_pids,
    rabbitmq_pids,
    run_checked,
    wait_quiet,
)
from pipeline_report import render

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CONFIG = BENCH / "config"
MESSAGE_PATH = "/v1/messages/sales_order"


@dataclass
class Result:
    """One system in one mode: what the table shows."""

    mode: str
    system: str  # "gateway" | "reference"
    accepted_per_s: float = 0.0
    delivered_per_s: float = 0.0
    saturation_ms: dict[str, float | None] = field(default_factory=dict)
    drain_s: float = 0.0  # from the end of saturation to the last of its orders delivered
    drain_per_s: float | None = None  # deliveries/s while only the backlog was left
    rate: float = 0.0
    ingress_ms: dict[str, float | None] = field(default_factory=dict)
    delivered_ms: dict[str, float | None] = field(default_factory=dict)
    accepted: int = 0
    refused: int = 0
    refused_by_status: dict[str, int] = field(default_factory=dict)  # "0" = no HTTP answer
    transport_errors: dict[str, int] = field(default_factory=dict)  # the "0"s by exception
    lost: int = 0
    duplicates: int = 0
    complete: bool = True  # False: the last drain gave up while orders were still arriving
    cpu: dict[str, float] = field(default_factory=dict)


class System:
    """A pipeline under test: child processes, the first of them serving ``MESSAGE_PATH``."""

    name = ""

    def __init__(self, bench: Bench, mode: str) -> None:
        self.bench, self.mode = bench, mode
        self.port = free_port()
        self.tag = f"{self.name}-{mode}"
        self.database: str | None = None
        self.children: list[Child] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None: ...

    async def cleanup(self) -> None: ...

    async def stop(self) -> None:
        for child in reversed(self.children):
            await child.stop()

    def cpu_groups(self) -> dict[str, Any]:
        pids = [c.pid for c in self.children]
        groups: dict[str, Any] = {self.name: lambda: pids}
        if self.mode == "production":
            groups["postgres"] = lambda: postgres_pids(self.database)
            groups["rabbitmq"] = rabbitmq_pids
        return groups


class Gateway(System):
    name = "gateway"

    def env(self) -> dict[str, str]:
        o = self.bench.opts
        env = {k: v for k, v in os.environ.items() if not k.startswith("ESB_")}
        env |= {
            "ESB_CONFIG": str(CONFIG),
            "ESB_HOST": "127.0.0.1",
            "ESB_PORT": str(self.port),
            "ESB_ADMIN_KEY": secrets.token_urlsafe(24),
            "ESB_LOG_LEVEL": "WARNING",
            "ESB_DATA_DIR": str(self.bench.out / f"data-{self.tag}"),
            "BENCH_KEY": self.bench.key,
            "BENCH_TARGET_URL": self.bench.sink_url + "/orders",
        }
        if self.mode == "production":
            env |= {
                "ESB_DATABASE_URL": self.bench.pg.url(self.database or ""),
                "ESB_BROKER_URL": o.broker_url,
                "ESB_BROKER_PREFIX": self.prefix,
                "ESB_QUEUE_TYPE": o.queue_type,
            }
        if self.bench.gateway_src is not None:
            src = self.bench.gateway_src
            env["PYTHONPATH"] = os.pathsep.join([str(src / "src"), str(src / "adapters")])
        extra = dict(kv.split("=", 1) for kv in o.gateway_env)
        if "PYTHONPATH" in extra and "PYTHONPATH" in env:  # a probe on top of --gateway-rev
            extra["PYTHONPATH"] += os.pathsep + env["PYTHONPATH"]
        return env | extra

    @property
    def prefix(self) -> str:
        return f"esbbench-{self.bench.run_id}"

    async def start(self) -> None:
        esb = [sys.executable, "-m", "esb"]
        log = self.bench.out / f"{self.tag}.log"
        if self.mode == "production":
            self.database = f"esb_bench_{self.bench.run_id}_gw"
            await self.bench.pg.create(self.database)
            await run_checked([*esb, "db", "upgrade"], self.env(), log)
        if self.mode == "production" and self.bench.opts.split:
            parts = [["serve", "--no-relay", "--no-worker"], ["relay"], ["worker"]]
        else:
            parts = [["serve"]]
        for part in parts:
            name = f"{self.tag}-{part[0]}"
            self.children.append(Child(name, [*esb, *part], self.env(), log))
        await self.children[0].wait_ready(self.url + "/readyz")

    async def cleanup(self) -> None:
        if self.database is not None:
            await self.bench.pg.drop(self.database)
        if self.mode == "production":
            routes = yaml.safe_load((CONFIG / "interfaces.yaml").read_text())["interfaces"]
            queues = [
                f"{self.prefix}.delivery.{name}.{target}"
                for name, interface in routes.items()
                for target in interface["targets"]
            ]
            await delete_broker_objects(
                self.bench.opts.broker_url,
                [*queues, f"{self.prefix}.dead"],
                [f"{self.prefix}.deliveries", f"{self.prefix}.dead"],
            )
        shutil.rmtree(self.bench.out / f"data-{self.tag}", ignore_errors=True)


class Reference(System):
    name = "reference"

    @property
    def prefix(self) -> str:
        return f"esbbench-{self.bench.run_id}-ref"

    async def start(self) -> None:
        o = self.bench.opts
        argv = [
            sys.executable,
            str(BENCH / "reference_pipeline.py"),
            self.mode,
            f"--port={self.port}",
            f"--key={self.bench.key}",
            f"--target={self.bench.sink_url}/orders",
        ]
        if self.mode == "production":
            self.database = f"esb_bench_{self.bench.run_id}_ref"
            argv += [
                f"--database-url={await self.bench.pg.create(self.database)}",
                f"--broker-url={o.broker_url}",
                f"--prefix={self.prefix}",
                f"--queue-type={o.queue_type}",
            ]
        else:
            argv.append(f"--data-dir={self.bench.out / f'data-{self.tag}'}")
        log = self.bench.out / f"{self.tag}.log"
        self.children.append(Child(self.tag, argv, dict(os.environ), log))
        await self.children[0].wait_ready(self.url + "/healthz")

    async def cleanup(self) -> None:
        if self.database is not None:
            await self.bench.pg.drop(self.database)
        if self.mode == "production":
            name = f"{self.prefix}.ref"
            await delete_broker_objects(self.bench.opts.broker_url, [name], [name])
        shutil.rmtree(self.bench.out / f"data-{self.tag}", ignore_errors=True)


class Bench:
    def __init__(self, opts: argparse.Namespace) -> None:
        self.opts = opts
        self.run_id = f"{os.getpid()}_{secrets.token_hex(3)}"
        self.key = secrets.token_urlsafe(24)
        self.out: Path = opts.out
        self.pg = Postgres(opts.pg_admin_url)
        self.sink: Child | None = None
        self.sink_url = ""
        self.http = httpx.AsyncClient(timeout=30.0)
        self.gateway_src: Path | None = None

    def snapshot(self, rev: str) -> None:
        """The gateway's code as committed at ``rev``, so edits in progress do not interfere."""
        target = self.out / "gateway-src"
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", rev, "src", "adapters"], cwd=REPO, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
        self.gateway_src = target

    async def run(self) -> list[Result]:
        if self.opts.gateway_rev:
            self.snapshot(self.opts.gateway_rev)
        port = free_port()
        self.sink_url = f"http://127.0.0.1:{port}"
        argv = [sys.executable, str(BENCH / "sink.py"), f"--port={port}"]
        self.sink = Child("sink", argv, dict(os.environ), self.out / "sink.log")
        await self.sink.wait_ready(self.sink_url + "/healthz")
        results = []
        for mode in self.opts.modes:
            gateway = await self.measure(Gateway(self, mode), self.opts.rate)
            rate = self.opts.rate or auto_rate(gateway)
            reference = await self.measure(Reference(self, mode), rate)
            results += [reference, gateway]
        return results

    async def measure(self, system: System, rate: float) -> Result:
        if self.opts.wait_quiet:
            print(f"-- {system.tag}: waiting for a quiet machine", file=sys.stderr, flush=True)
            busy = await wait_quiet(self.opts.wait_quiet, 5.0, self.opts.wait_max)
            print(f"-- {system.tag}: machine {busy} % busy", file=sys.stderr, flush=True)
        print(f"-- {system.tag}: starting", file=sys.stderr, flush=True)
        await self.http.post(self.sink_url + "/reset")
        try:
            await system.start()
            result = await self.drive(system, rate)
            print(f"-- {system.tag}: {compact(result)}", file=sys.stderr, flush=True)
            return result
        finally:
            await system.stop()
            await system.cleanup()

    async def drive(self, system: System, rate: float) -> Result:
        """Warm-up, saturation, drain, open loop, drain; then count."""
        o, result = self.opts, Result(system.mode, system.name)
        endpoint = Endpoint.from_url(system.url + MESSAGE_PATH, self.key)
        requests = OrderRequests(endpoint)
        prefix = f"{self.run_id}-{system.tag}"
        warm = await closed_loop(
            endpoint, requests, connections=o.connections, duration=o.warmup, prefix=prefix + "-w"
        )
        groups = {**system.cpu_groups(), "sink": self.sink_pids, "loadgen": lambda: [os.getpid()]}
        watch, profiler = CpuWatch(groups).start(), self.profile(system)
        saturation = await closed_loop(
            endpoint, requests, connections=o.connections, duration=o.duration, prefix=prefix + "-s"
        )
        result.cpu = watch.stop()
        await self.finish_profile(profiler)
        await self.drain([warm, saturation])
        saturation_metrics(result, warm, saturation, await self.arrivals())
        result.rate = rate or auto_rate(result)
        print(f"-- {system.tag}: open loop at {result.rate:.0f}/s", file=sys.stderr, flush=True)
        steady = await open_loop(
            endpoint, requests, rate=result.rate, duration=o.open_duration, prefix=prefix + "-o"
        )
        _, result.complete = await self.drain([warm, saturation, steady])
        arrivals = await self.arrivals()
        final_metrics(result, [warm, saturation, steady], arrivals)
        result.duplicates = int((await self.stats())["duplicates"])
        write_orders(self.out / f"orders-{system.tag}.csv", [warm, saturation, steady], arrivals)
        return result

    def sink_pids(self) -> list[int]:
        return [self.sink.pid] if self.sink is not None else []

    def profile(self, system: System) -> list[subprocess.Popen[bytes]]:
        """py-spy on each gateway process during the saturation window (``--profile``)."""
        if not self.opts.profile or system.name != "gateway":
            return []
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        profilers = []
        for child in system.children:
            argv = [
                py_spy, "record", "--pid", str(child.pid), "--format", "raw",
                "--duration", str(int(self.opts.duration)),
                "-o", str(self.out / f"profile-{child.name}.txt"),
            ]  # fmt: skip
            with (self.out / f"profile-{child.name}.log").open("ab") as log:
                profilers.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT))
        return profilers

    @staticmethod
    async def finish_profile(profilers: list[subprocess.Popen[bytes]]) -> None:
        for profiler in profilers:
            await asyncio.to_thread(profiler.wait, 60)

    async def stats(self) -> dict[str, Any]:
        return dict((await self.http.get(self.sink_url + "/stats")).json())

    async def arrivals(self) -> dict[str, int]:
        return dict(orjson.loads((await self.http.get(self.sink_url + "/arrivals")).content))

    async def drain(self, phases: list[Phase]) -> tuple[float, bool]:
        """Wait until the sink saw every accepted order; give up when it stops progressing."""
        expected = sum(len(p.accepted()) for p in phases)
        t0 = last_change = time.monotonic()
        seen = -1
        while True:
            unique = (await self.stats())["unique"]
            now = time.monotonic()
            if unique >= expected:
                return now - t0, True
            if unique != seen:
                seen, last_change = unique, now
            if now - last_change > self.opts.stall or now - t0 > self.opts.drain_max:
                return now - t0, False
            await asyncio.sleep(0.1)

    async def aclose(self) -> None:
        if self.sink is not None:
            await self.sink.stop()
        await self.http.aclose()
        await self.pg.drop_all()
        if self.gateway_src is not None:
            shutil.rmtree(self.gateway_src, ignore_errors=True)


def saturation_metrics(
    result: Result, warm: Phase, saturation: Phase, arrivals: dict[str, int]
) -> None:
    """Rates in the saturation window, and how fast the backlog left after it."""
    window = (saturation.ended_ns - saturation.began_ns) / 1e9
    result.accepted_per_s = round(len(saturation.accepted()) / window, 1)
    during = sum(1 for t in arrivals.values() if saturation.began_ns <= t < saturation.ended_ns)
    result.delivered_per_s = round(during / window, 1)
    result.saturation_ms = quantiles(saturation.latencies_ms())
    accepted = {**warm.accepted(), **saturation.accepted()}
    backlog = [arrivals[k] for k in accepted if arrivals.get(k, 0) >= saturation.ended_ns]
    if backlog:
        result.drain_s = round((max(backlog) - saturation.ended_ns) / 1e9, 2)
    if len(backlog) >= 100 and result.drain_s > 0.5:
        result.drain_per_s = round(len(backlog) / result.drain_s, 1)


def final_metrics(result: Result, phases: list[Phase], arrivals: dict[str, int]) -> None:
    """Open-loop latencies (the last phase) and loss over every phase."""
    steady = phases[-1]
    result.ingress_ms = quantiles(steady.latencies_ms())
    result.delivered_ms = quantiles(
        [(arrivals[k] - t) / 1e6 for k, t in steady.accepted().items() if k in arrivals]
    )
    accepted = {k for p in phases for k in p.accepted()}
    result.accepted = len(accepted)
    result.refused = sum(p.refused() for p in phases)
    result.refused_by_status = dict(
        Counter(str(s) for p in phases for s in p.status if not 200 <= s < 300)
    )
    result.transport_errors = dict(sum((p.errors for p in phases), Counter[str]()))
    result.lost = sum(1 for k in accepted if k not in arrivals)


def write_orders(path: Path, phases: list[Phase], arrivals: dict[str, int]) -> None:
    """Every order with its times (monotonic ns), for looking closer at a run."""
    with path.open("w") as out:
        out.write("phase,order_id,status,due_or_sent_ns,answered_ns,delivered_ns\n")
        for p in phases:
            for i, status, start, done in zip(p.ids, p.status, p.start_ns, p.done_ns, strict=True):
                out.write(f"{p.name},{i},{status},{start},{done},{arrivals.get(i, '')}\n")


def auto_rate(result: Result) -> float:
    """Half the end-to-end capacity estimated from the saturation phase, at least 10/s.

    An optimistic estimate: with ingress running, deliveries come in small batches and
    cost more than while draining, so the real knee is lower (``--rate 0`` only).

    One event loop does both jobs. During saturation it accepted A/s and delivered d/s;
    afterwards, with ingress idle, it delivered D/s. So a delivery costs 1/D of a
    second and an accept (1 - d/D)/A, and the capacity is 1 / (both costs).
    """
    a, d = result.accepted_per_s, result.delivered_per_s
    big_d = result.drain_per_s or 0.0
    if big_d <= 0 or a <= 0:  # no backlog: delivery kept up, the accepted rate is the capacity
        capacity = min(a, d) if d > 0 else a
    else:
        capacity = 1 / ((1 - min(d / big_d, 1.0)) / a + 1 / big_d)
    return float(max(10, round(capacity / 2 / 10) * 10))


def quantiles(values: list[float]) -> dict[str, float | None]:
    return {
        "p50": _round(percentile(values, 0.50)),
        "p99": _round(percentile(values, 0.99)),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def compact(r: Result) -> str:
    return (
        f"accepted {r.accepted_per_s}/s, delivered {r.delivered_per_s}/s, "
        f"ingress p99 {r.ingress_ms.get('p99')} ms, lost {r.lost}, dup {r.duplicates}"
    )


def describe_run(opts: argparse.Namespace) -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip()

    if opts.gateway_rev:
        commit = git("rev-parse", "--short", opts.gateway_rev)
    else:
        dirty = git("status", "--porcelain", "--", "src", "adapters")
        commit = git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if dirty else "")
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "cores": os.cpu_count(),
        "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
        "queue_type": opts.queue_type,
        "gateway": (
            "production gateway as 3 processes (API, relay, worker)"
            if opts.split
            else "gateway as one `esb serve` process"
        )
        + "".join(f", {kv}" for kv in opts.gateway_env),
        "connections": opts.connections,
        "duration_s": opts.duration,
        "open_duration_s": opts.open_duration,
        "command": " ".join(["bench/pipeline_bench.py", *sys.argv[1:]]),
    }


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--modes", default="embedded,production", help="comma-separated")
    p.add_argument("--connections", type=int, default=32, help="closed-loop connections")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds before saturation")
    p.add_argument("--duration", type=float, default=15.0, help="saturation window, s")
    p.add_argument("--open-duration", type=float, default=15.0, help="open-loop phase, s")
    p.add_argument(
        "--rate",
        type=float,
        default=100.0,
        help="open-loop orders/s, the same for both (0: half the gateway's estimated capacity)",
    )
    p.add_argument("--stall", type=float, default=10.0, help="drain ends after s without progress")
    p.add_argument("--drain-max", type=float, default=90.0, help="longest drain, s")
    p.add_argument("--queue-type", choices=["quorum", "classic"], default="quorum")
    p.add_argument("--pg-admin-url", default="postgresql://127.0.0.1:5432/test")
    p.add_argument("--broker-url", default="amqp://guest:guest@127.0.0.1:5672/")
    p.add_argument(
        "--gateway-env",
        action="append",
        default=[],
        metavar="ESB_X=VALUE",
        help="extra environment for the gateway (repeatable)",
    )
    p.add_argument(
        "--split",
        action="store_true",
        help="production gateway as three processes: esb serve --no-relay --no-worker, "
        "esb relay, esb worker (CPU summed)",
    )
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="PCT",
        help="before each system, wait until other processes use under PCT %% of the machine",
    )
    p.add_argument("--wait-max", type=float, default=600.0, help="longest such wait, s")
    p.add_argument(
        "--gateway-rev",
        default="",
        metavar="REV",
        help="run the gateway as committed at REV (e.g. HEAD), not the working tree",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the gateway during saturation (skews its numbers slightly)",
    )
    p.add_argument("--out", type=Path, default=None, help="logs and results.json")
    opts = p.parse_args()
    opts.modes = [m.strip() for m in opts.modes.split(",") if m.strip()]
    if not set(opts.modes) <= {"embedded", "production"}:
        p.error("--modes takes embedded and/or production")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    opts.out = (opts.out or BENCH / "results" / f"pipeline-{stamp}").resolve()
    return opts


async def main(opts: argparse.Namespace) -> int:
    asyncio.get_running_loop().add_signal_handler(
        signal.SIGTERM,
        asyncio.current_task().cancel,  # type: ignore[union-attr]
    )
    opts.out.mkdir(parents=True, exist_ok=True)
    run = describe_run(opts)
    bench = Bench(opts)
    try:
        results = await bench.run()
    finally:
        await bench.aclose()
    (opts.out / "results.json").write_bytes(
        orjson.dumps(
            {"run": run, "results": [asdict(r) for r in results]}, option=orjson.OPT_INDENT_2
        )
    )
    print(render(run, results))
    print(f"\nlogs and results.json in {opts.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(uvloop.run(main(parse_args())))
    except KeyboardInterrupt:
        sys.exit(130)
