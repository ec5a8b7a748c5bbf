"""Master-data import at scale: how fast a big CSV imports, and what an accept waits meanwhile.

    .venv/bin/python bench/xref_import_bench.py --rows 100000,1000000 --modes embedded,production

For each mode a fresh database and a real gateway (``esb serve`` on bench/config, relay
and workers on, delivering to bench/sink.py; production: PostgreSQL + RabbitMQ). Sales
orders are posted at ``--rate`` per second throughout (open loop: each order's wait
counts from when it was due, so a stalled accept is charged in full). Three seconds in,
a customer CSV of N rows (erp, mes, wms; Chinese in the wms column) is imported:

- ``--via cli``: ``esb xref import``, a process of its own (the file read as a stream);
  its peak memory is its high-water mark from ``wait4``;
- ``--via http``: ``POST /v1/xref/{domain}/import`` with the file streamed as the body
  (by a client process of its own), into the gateway that takes the orders; its memory
  is the gateway's high-water mark, which includes the master-data cache.

Then the same file again (every row unchanged: the idempotent re-run). Printed: import
seconds and rows/s against the targets (100,000 rows: 10 s on PostgreSQL, 20 s on
SQLite), and the orders due while each import ran: how many, how many not 2xx, and
their wait (p50, p99, max; the target: never more than 1 s). Logs and results.json go
to bench/results/xref-import-<time>/. Everything started is stopped by its pid; the
databases and broker objects made are dropped by name.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop
import yaml

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from loadgen import Connection, Endpoint, OrderRequests, percentile  # noqa: E402
from pipeline_harness import (  # noqa: E402
    Child,
    Postgres,
    delete_broker_objects,
    free_port,
    run_checked,
)

CONFIG = BENCH / "config"
TARGET_S = {"embedded": 20.0, "production": 10.0}  # per 100,000 rows
MAX_WAIT_MS = 1000.0
ESB = [sys.executable, "-m", "esb"]


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("erp,mes,wms\n")
        for start in range(0, rows, 10_000):
            out.write(
                "".join(
                    f"C{i:09d},9{i:09d},仓库-{i:09d}\n"
                    for i in range(start, min(rows, start + 10_000))
                )
            )


def vm_kib(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise KeyError(field_name)


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


@dataclass
class SteadyLoad:
    """Orders due at a fixed rate until stopped; each one's due time, answer time, status."""

    endpoint: Endpoint
    rate: float
    connections: int = 16
    due: list[int] = field(default_factory=list)
    done: list[int] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[Any] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task

    async def _run(self) -> None:
        requests = OrderRequests(self.endpoint)
        began, prefix, counter = time.monotonic_ns(), secrets.token_hex(4), iter(range(10**9))

        async def one_connection() -> None:
            conn = Connection(self.endpoint)
            while not self._stop.is_set():
                n = next(counter)
                due = began + int(n * 1e9 / self.rate)
                if (wait := due - time.monotonic_ns()) > 0:
                    await asyncio.sleep(wait / 1e9)
                status = await conn.call(requests.build(f"{prefix}-{n:08d}", time.monotonic_ns()))
                self.due.append(due)
                self.done.append(time.monotonic_ns())
                self.status.append(status)
            conn.close()

        await asyncio.gather(*(one_connection() for _ in range(self.connections)))

    def window(self, since_ns: int, until_ns: int) -> dict[str, Any]:
        """The orders due between the two times: count, not 2xx, wait in ms."""
        picked = [
            (d, e, s)
            for d, e, s in zip(self.due, self.done, self.status, strict=True)
            if since_ns <= d <= until_ns
        ]
        waits = [(e - d) / 1e6 for d, e, _ in picked]
        return {
            "over_200ms": [  # (seconds into the window, wait ms)
                (round((d - since_ns) / 1e9, 2), round(w))
                for (d, *_), w in zip(picked, waits, strict=True)
                if w > 200
            ],
            "orders": len(picked),
            "not_2xx": sum(1 for *_, s in picked if not 200 <= s < 300),
            "p50_ms": percentile(waits, 0.5),
            "p99_ms": percentile(waits, 0.99),
            "max_ms": max(waits, default=None),
        }


@dataclass
class Gateway:
    mode: str
    run_id: str
    out: Path
    opts: argparse.Namespace
    sink_url: str
    pg: Postgres
    port: int = field(default_factory=free_port)
    key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    admin_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    child: Child | None = None
    database: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def prefix(self) -> str:
        return f"esbbench-xref-{self.run_id}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ESB_")}
        env |= {
            "ESB_CONFIG": str(CONFIG),
            "ESB_PORT": str(self.port),
            "ESB_ADMIN_KEY": self.admin_key,
            "ESB_LOG_LEVEL": "WARNING",
            "ESB_DATA_DIR": str(self.out / f"data-{self.mode}"),
            "BENCH_KEY": self.key,
            "BENCH_TARGET_URL": self.sink_url + "/orders",
        }
        if self.mode == "production":
            env |= {
                "ESB_DATABASE_URL": self.pg.url(self.database or ""),
                "ESB_BROKER_URL": self.opts.broker_url,
                "ESB_BROKER_PREFIX": self.prefix,
            }
        return env

    async def start(self) -> None:
        log = self.out / f"gateway-{self.mode}.log"
        if self.mode == "production":
            self.database = f"esb_bench_xref_{self.run_id}"
            await self.pg.create(self.database)
            await run_checked([*ESB, "db", "upgrade"], self.env(), log)
        self.child = Child(f"gateway-{self.mode}", [*ESB, "serve"], self.env(), log)
        await self.child.wait_ready(self.url + "/readyz")

    async def stop(self) -> None:
        if self.child is not None:
            await self.child.stop()
        if self.database is not None:
            await self.pg.drop(self.database)
        if self.mode == "production":
            routes = yaml.safe_load((CONFIG / "interfaces.yaml").read_text())["interfaces"]
            queues = [
                f"{self.prefix}.delivery.{n}.{t}" for n, i in routes.items() for t in i["targets"]
            ]
            await delete_broker_objects(
                self.opts.broker_url,
                [*queues, f"{self.prefix}.dead"],
                [f"{self.prefix}.deliveries", f"{self.prefix}.dead"],
            )
        shutil.rmtree(self.out / f"data-{self.mode}", ignore_errors=True)


COUNTS = re.compile(r"(\d+) created, (\d+) updated, (\d+) unchanged, (\d+) refused")


def cli_import(gateway: Gateway, domain: str, path: Path) -> dict[str, Any]:
    """``esb xref import`` in a process of its own; its counts and peak memory (wait4)."""
    log = gateway.out / f"import-{domain}.log"
    with log.open("ab") as err:
        proc = subprocess.Popen(
            [*ESB, "xref", "import", domain, str(path)],
            env=gateway.env(),
            stdout=subprocess.PIPE,
            stderr=err,
        )
        assert proc.stdout is not None
        output = proc.stdout.read().decode()
        _, status, usage = os.wait4(proc.pid, 0)
    match = COUNTS.search(output)
    if os.waitstatus_to_exitcode(status) != 0 or match is None:
        raise RuntimeError(f"import failed: {output!r}; see {log}")
    created, updated, unchanged, refused = map(int, match.groups())
    return {
        "counts": {"created": created, "updated": updated, "unchanged": unchanged},
        "refused": refused,
        "peak_mib": usage.ru_maxrss / 1024,
    }


#: The HTTP client, in a process of its own: uploading 40 MB from the load generator's
#: event loop would delay the orders it is due to send (and charge the gateway for it).
UPLOAD = """
import sys, httpx
url, key, path = sys.argv[1:]
with open(path, "rb") as body:
    answer = httpx.post(url, content=body, timeout=900,
                        headers={"Authorization": f"Bearer {key}", "Content-Type": "text/csv"})
answer.raise_for_status()
print(answer.text)
"""


def http_import(gateway: Gateway, domain: str, path: Path) -> dict[str, Any]:
    """The file streamed as the body of one request to the gateway that takes the orders."""
    assert gateway.child is not None
    url = f"{gateway.url}/v1/xref/{domain}/import"
    done = subprocess.run(
        [sys.executable, "-c", UPLOAD, url, gateway.admin_key, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    return {
        "counts": {k: result[k] for k in ("created", "updated", "unchanged")},
        "refused": result["refused"],
        "peak_mib": vm_kib(gateway.child.pid, "VmHWM") / 1024,
    }


async def timed_import(gateway: Gateway, via: str, domain: str, path: Path) -> dict[str, Any]:
    started, load = time.monotonic_ns(), load_average()
    run = cli_import if via == "cli" else http_import
    result = await asyncio.to_thread(run, gateway, domain, path)
    ended = time.monotonic_ns()
    return {**result, "start_ns": started, "end_ns": ended, "seconds": (ended - started) / 1e9,
            "load_average": (load, load_average())}  # fmt: skip


async def measure(
    gateway: Gateway, rows: int, via: str, opts: argparse.Namespace
) -> dict[str, Any]:
    path = gateway.out / f"customers-{rows}.csv"
    if not path.exists():
        write_csv(path, rows)
    domain = f"customer-{rows}-{via}"
    endpoint = Endpoint.from_url(gateway.url + "/v1/messages/sales_order", gateway.key)
    load = SteadyLoad(endpoint, opts.rate)
    load.start()
    await asyncio.sleep(opts.warmup)
    first = await timed_import(gateway, via, domain, path)
    await asyncio.sleep(2)
    again = await timed_import(gateway, via, domain, path)
    await asyncio.sleep(1)
    await load.stop()
    assert first["counts"] == {"created": rows, "updated": 0, "unchanged": 0}, first
    assert again["counts"] == {"created": 0, "updated": 0, "unchanged": rows}, again
    return {
        "mode": gateway.mode,
        "rows": rows,
        "via": via,
        "import": first | {"accepts": load.window(first["start_ns"], first["end_ns"])},
        "again": again | {"accepts": load.window(again["start_ns"], again["end_ns"])},
        "before": load.window(0, first["start_ns"]),
        "file_mib": path.stat().st_size / 2**20,
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| mode | rows | via | import s (target) | rows/s | re-import s | orders during "
        "import (not 2xx) | wait p50 / p99 / max ms | importer peak MiB | load avg |",
        "|---|---:|---|---:|---:|---:|---:|---|---:|---|",
    ]
    for r in results:
        first, again, accepts = r["import"], r["again"], r["import"]["accepts"]
        target = TARGET_S[r["mode"]] * r["rows"] / 100_000
        lines.append(
            f"| {r['mode']} | {r['rows']:,} | {r['via']} | {first['seconds']:.1f} ({target:.0f}) "
            f"| {r['rows'] / first['seconds']:,.0f} | {again['seconds']:.1f} | "
            f"{accepts['orders']} ({accepts['not_2xx']}) | {_ms(accepts['p50_ms'])} / "
            f"{_ms(accepts['p99_ms'])} / **{_ms(accepts['max_ms'])}** | "
            f"{first['peak_mib']:.0f} | {first['load_average'][0]:.1f}-"
            f"{first['load_average'][1]:.1f} |"
        )
    return "\n".join(lines)


async def run(opts: argparse.Namespace) -> list[dict[str, Any]]:
    run_id = f"{os.getpid()}_{secrets.token_hex(3)}"
    pg = Postgres(opts.pg_admin_url)
    sink_port = free_port()
    sink = Child("sink", [sys.executable, str(BENCH / "sink.py"), f"--port={sink_port}"],
                 dict(os.environ), opts.out / "sink.log")  # fmt: skip
    results = []
    try:
        await sink.wait_ready(f"http://127.0.0.1:{sink_port}/healthz")
        for mode in opts.modes.split(","):
            gateway = Gateway(mode, run_id, opts.out, opts, f"http://127.0.0.1:{sink_port}", pg)
            try:
                await gateway.start()
                for rows in (int(n) for n in opts.rows.split(",")):
                    for via in opts.via.split(","):
                        result = await measure(gateway, rows, via, opts)
                        print(table([result]).splitlines()[-1], file=sys.stderr, flush=True)
                        results.append(result)
            finally:
                await gateway.stop()
    finally:
        await sink.stop()
        await pg.drop_all()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="100000", help="comma-separated, e.g. 100000,1000000")
    parser.add_argument("--modes", default="embedded,production")
    parser.add_argument("--via", default="cli,http", help="cli, http or both")
    parser.add_argument("--rate", type=float, default=50.0, help="orders per second meanwhile")
    parser.add_argument("--warmup", type=float, default=3.0, help="orders before the import, s")
    parser.add_argument("--pg-admin-url", default="postgresql://127.0.0.1:5432/test")
    parser.add_argument("--broker-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--out", type=Path, default=None)
    opts = parser.parse_args()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    opts.out = (opts.out or BENCH / "results" / f"xref-import-{stamp}").resolve()
    opts.out.mkdir(parents=True, exist_ok=True)
    results = uvloop.run(run(opts))
    for r in results:
        for leg in ("import", "again"):
            r[leg].pop("start_ns"), r[leg].pop("end_ns")
    (opts.out / "results.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    print(f"\norders at {opts.rate:g}/s; wait target: max {MAX_WAIT_MS:.0f} ms; {opts.out}")
    for path in opts.out.glob("customers-*.csv"):
        path.unlink()


if __name__ == "__main__":
    main()
