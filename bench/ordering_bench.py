"""What ordering per business key costs: delivered throughput with ``ordering: key`` and
with ``ordering: none``, in the same run, production mode (PostgreSQL + RabbitMQ).

Each round starts from a fresh database and fresh queues, with the sink
(bench/sink.py) as the target:

1. **load**: the API alone (``esb serve --no-relay --no-worker``) accepts ``--orders``
   sales orders over ``--connections`` connections, their business keys spread over
   ``--keys`` distinct values (order n has key n mod keys), so each key has a line of
   orders waiting behind each other -> accepted msg/s;
2. **deliver**: ``esb serve`` (relay and workers) drains them into the sink ->
   delivered msg/s from the first to the last arrival, and how many orders reached
   the sink before an earlier order of their key (0 with ordering).

Variants alternate (none, key, key, none, ...) so a machine getting busier or quieter
does not favour one. It prints a Markdown table; logs go to ``--out``. Every database
and queue it creates is removed at the end.

    .venv/bin/python bench/ordering_bench.py                  # 2 rounds each, ~4 minutes
    .venv/bin/python bench/ordering_bench.py --rounds 1 --orders 10000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import shutil
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop
from loadgen import ORDER_TEMPLATE, Connection, Endpoint
from pipeline_harness import Child, Postgres, delete_broker_objects, free_port, run_checked

BENCH = Path(__file__).resolve().parent
MESSAGE_PATH = "/v1/messages/sales_order"
INTERFACES = """
interfaces:
  sales-order:
    source: erp
    message_type: sales_order
    key: ref_key
    retry: {{schedule: [1s, 5s, 30s]}}
    targets:
      mes:
        ordering: {ordering}
        connector:
          kind: rest
          url: {target}
          timeout: {{connect: 2s, total: 10s}}
"""


@dataclass
class Round:
    ordering: str
    accepted_per_s: float
    delivered_per_s: float
    delivered: int
    out_of_order: int  # orders that reached the sink before an earlier one of their key


class Orders:
    """POST requests of the benchmark order: a unique id, and one of ``keys`` business keys."""

    def __init__(self, endpoint: Endpoint, keys: int) -> None:
        self.order = orjson.loads(ORDER_TEMPLATE.read_bytes())
        self.keys = keys
        self.head = (
            f"POST {endpoint.path} HTTP/1.1\r\nHost: {endpoint.host}:{endpoint.port}\r\n"
            f"Authorization: Bearer {endpoint.key}\r\nContent-Type: application/json\r\n"
        ).encode()

    @staticmethod
    def order_id(n: int) -> str:
        return f"ORD-{n:07d}"

    def key(self, n: int) -> str:
        return f"K-{n % self.keys:05d}"

    def build(self, n: int) -> bytes:
        body = orjson.dumps(
            {**self.order, "order_id": self.order_id(n), "ref_key": self.key(n), "sent_ns": 0}
        )
        return self.head + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


async def load(endpoint: Endpoint, orders: Orders, count: int, connections: int) -> float:
    """Send orders 0..count-1 over ``connections`` keep-alive connections; accepted/s."""
    next_n = iter(range(count))
    accepted = 0

    async def one() -> None:
        nonlocal accepted
        conn = Connection(endpoint)
        for n in next_n:
            status = await conn.call(orders.build(n))
            if not 200 <= status < 300:
                raise RuntimeError(f"order {n} refused: HTTP {status}")
            accepted += 1
        conn.close()

    t0 = time.monotonic()
    await asyncio.gather(*(one() for _ in range(connections)))
    return accepted / (time.monotonic() - t0)


class Bench:
    def __init__(self, opts: argparse.Namespace) -> None:
        self.opts = opts
        self.run_id = f"{os.getpid()}_{secrets.token_hex(3)}"
        self.key = secrets.token_urlsafe(24)
        self.pg = Postgres(opts.pg_admin_url)
        self.http = httpx.AsyncClient(timeout=30.0)
        self.sink: Child | None = None
        self.sink_url = ""

    def env(self, config: Path, database: str, prefix: str, port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ESB_")}
        return env | {
            "ESB_CONFIG": str(config),
            "ESB_HOST": "127.0.0.1",
            "ESB_PORT": str(port),
            "ESB_ADMIN_KEY": secrets.token_urlsafe(24),
            "ESB_LOG_LEVEL": "WARNING",
            "ESB_DATA_DIR": str(self.opts.out / "data"),
            "ESB_DATABASE_URL": self.pg.url(database),
            "ESB_BROKER_URL": self.opts.broker_url,
            "ESB_BROKER_PREFIX": prefix,
            "BENCH_KEY": self.key,
        }

    def config(self, ordering: str) -> Path:
        folder = self.opts.out / f"config-{ordering}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(BENCH / "config" / "systems.yaml", folder / "systems.yaml")
        text = INTERFACES.format(ordering=ordering, target=self.sink_url + "/orders")
        (folder / "interfaces.yaml").write_text(text)
        return folder

    async def round(self, n: int, ordering: str) -> Round:
        o, esb = self.opts, [sys.executable, "-m", "esb"]
        tag = f"{n}-{ordering}"
        database, prefix = f"esb_bench_{self.run_id}_{n}", f"esbbench-{self.run_id}-{n}"
        port = free_port()
        env = self.env(self.config(ordering), database, prefix, port)
        log = o.out / f"gateway-{tag}.log"
        url = f"http://127.0.0.1:{port}"
        await self.pg.create(database)
        await self.http.post(self.sink_url + "/reset")
        try:
            await run_checked([*esb, "db", "upgrade"], env, log)
            api = Child(f"api-{tag}", [*esb, "serve", "--no-relay", "--no-worker"], env, log)
            await api.wait_ready(url + "/readyz")
            endpoint = Endpoint.from_url(url + MESSAGE_PATH, self.key)
            orders = Orders(endpoint, o.keys)
            accepted_per_s = await load(endpoint, orders, o.orders, o.connections)
            await api.stop()
            gateway = Child(f"gateway-{tag}", [*esb, "serve"], env, log)
            try:
                await gateway.wait_ready(url + "/readyz")
                arrivals = await self.drain(o.orders)
            finally:
                await gateway.stop()
        finally:
            await self.pg.drop(database)
            queues = [f"{prefix}.delivery.sales-order.mes", f"{prefix}.dead"]
            await delete_broker_objects(o.broker_url, queues, [f"{prefix}.deliveries", queues[1]])
        times = sorted(arrivals.values())
        span = (times[-1] - times[0]) / 1e9 if len(times) > 1 else 0.0
        return Round(
            ordering,
            round(accepted_per_s, 1),
            round((len(times) - 1) / span, 1) if span else 0.0,
            len(arrivals),
            out_of_order(arrivals, orders),
        )

    async def drain(self, count: int) -> dict[str, int]:
        """Wait until the sink has every order (give up after ``--stall`` s of no progress)."""
        seen, last_change = -1, time.monotonic()
        while True:
            unique = int((await self.http.get(self.sink_url + "/stats")).json()["unique"])
            if unique >= count:
                break
            if unique != seen:
                seen, last_change = unique, time.monotonic()
            if time.monotonic() - last_change > self.opts.stall:
                raise RuntimeError(f"delivery stalled at {unique} of {count}")
            await asyncio.sleep(0.2)
        return dict(orjson.loads((await self.http.get(self.sink_url + "/arrivals")).content))

    async def run(self) -> list[Round]:
        port = free_port()
        self.sink_url = f"http://127.0.0.1:{port}"
        argv = [sys.executable, str(BENCH / "sink.py"), f"--port={port}"]
        self.sink = Child("sink", argv, dict(os.environ), self.opts.out / "sink.log")
        await self.sink.wait_ready(self.sink_url + "/healthz")
        rounds = []
        for n in range(self.opts.rounds * 2):
            ordering = ("none", "key")[(n + n // 2) % 2]  # none, key, key, none, none, key...
            print(f"-- round {n + 1}: ordering {ordering}", file=sys.stderr, flush=True)
            rounds.append(await self.round(n, ordering))
            print(f"   {asdict(rounds[-1])}", file=sys.stderr, flush=True)
        return rounds

    async def aclose(self) -> None:
        if self.sink is not None:
            await self.sink.stop()
        await self.http.aclose()
        await self.pg.drop_all()


def out_of_order(arrivals: dict[str, int], orders: Orders) -> int:
    """Orders that arrived before an order of their key sent (and accepted) before them."""
    latest: dict[str, int] = {}
    late = 0
    for order_id, at in sorted(arrivals.items()):  # order ids sort in sending order
        key = orders.key(int(order_id.split("-")[1]))
        if at < latest.get(key, 0):
            late += 1
        latest[key] = max(at, latest.get(key, 0))
    return late


def render(opts: argparse.Namespace, rounds: list[Round]) -> str:
    def mean(ordering: str, field: str) -> float:
        return statistics.mean(getattr(r, field) for r in rounds if r.ordering == ordering)

    lines = [
        f"{opts.orders:,} orders over {opts.keys:,} business keys, {opts.connections} "
        f"connections, production mode, {opts.rounds} round(s) per variant",
        "",
        "| ordering | accepted msg/s | delivered msg/s | out of order |",
        "|---|---:|---:|---:|",
    ]
    for r in rounds:
        lines.append(
            f"| {r.ordering} | {r.accepted_per_s:,.0f} | {r.delivered_per_s:,.0f} | "
            f"{r.out_of_order} |"
        )
    for field, label in (("delivered_per_s", "delivered"), ("accepted_per_s", "accepted")):
        off, on = mean("none", field), mean("key", field)
        lines.append(f"\nmean {label}: none {off:,.0f}/s, key {on:,.0f}/s: cost {1 - on / off:.1%}")
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--orders", type=int, default=20_000, help="orders per round")
    p.add_argument("--keys", type=int, default=1_000, help="distinct business keys")
    p.add_argument("--connections", type=int, default=32, help="load connections")
    p.add_argument("--rounds", type=int, default=2, help="rounds per variant")
    p.add_argument("--stall", type=float, default=30.0, help="give up after s without progress")
    p.add_argument("--pg-admin-url", default="postgresql://127.0.0.1:5432/test")
    p.add_argument("--broker-url", default="amqp://guest:guest@127.0.0.1:5672/")
    p.add_argument("--out", type=Path, default=None, help="logs and results.json")
    opts = p.parse_args()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    opts.out = (opts.out or BENCH / "results" / f"ordering-{stamp}").resolve()
    return opts


async def main(opts: argparse.Namespace) -> int:
    opts.out.mkdir(parents=True, exist_ok=True)
    bench = Bench(opts)
    try:
        rounds = await bench.run()
    finally:
        await bench.aclose()
    results: dict[str, Any] = {"options": {k: str(v) for k, v in vars(opts).items()}}
    results["rounds"] = [asdict(r) for r in rounds]
    (opts.out / "results.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    print(render(opts, rounds))
    print(f"\nlogs and results.json in {opts.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(uvloop.run(main(parse_args())))
    except KeyboardInterrupt:
        sys.exit(130)
