"""Staging-table intake: rows of ``mes_completion`` into accepted messages, against a plain copy.

    .venv/bin/python bench/staging_bench.py --rows 100000,1000000 [--mes mariadb|postgresql]
        [--rounds 5]

For each size a fresh MES database (MariaDB by default, the scenario's table) is made
and measured twice, each in a fresh process:

- **floor**: the least work that moves the same rows durably: ``SELECT`` in key order,
  500 rows a statement, and ``executemany`` of each batch into a table of the same
  columns in a SQLite file (WAL, ``synchronous=FULL``, one commit per batch: the
  embedded gateway's durability), by SQLAlchemy Core over the same async drivers;
- **store floor**: the same reading, each row written as the gateway stores an accepted
  message (message, delivery and outbox rows into the real schema, ``store_floor.py``);
- **gateway**: ``esb serve --no-relay --no-worker`` (delivery is measured by the
  pipeline benchmark) with one ``production-report`` interface: the ``sql-poll``
  source (batch 500, interval 200ms), the demo's JSON schema, one REST target. The
  rows are inserted (one ``INSERT ... SELECT``) once the gateway is ready; the time
  runs from their commit until every row carries flag 1: each row read, converted,
  checked against the schema, routed, committed as a message with its delivery and
  outbox row, and its flag written back. Peak memory is the gateway's VmHWM.

The floor is measured again after the gateway (the rows made new) and the gateway is
compared with the mean of both: a shared machine's speed drifts within a minute.
``--rounds N`` measures each size N times, each on a fresh database, and adds the median
ratio and its range.

``STAGING_BATCH=N`` gives the gateway's source another page size (the floors keep 500).

Prints one Markdown table; logs and ``results.json`` go to ``bench/results/staging-*``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVERS = {
    "mariadb": "mysql://root@127.0.0.1:3306/test",
    "postgresql": "postgresql://127.0.0.1:5432/test",
}
SCHEMA = ROOT / "src" / "esb" / "demo_factory" / "schemas" / "production_report.schema.json"
BATCH = 500
FILL = {
    "mariadb": "INSERT INTO mes_completion (work_order, material_code, qty_good, qty_scrap, "
    "line_code, finished_at, operator_name) SELECT CONCAT('WO-B', LPAD(seq, 9, '0')), "
    "'100-2001', seq % 997 + 0.125, 0, 'L1', TIMESTAMP '2026-11-25 08:00:00' + INTERVAL seq "
    "SECOND, '张伟' FROM seq_1_to_{rows}",
    "postgresql": "INSERT INTO mes_completion (work_order, material_code, qty_good, qty_scrap, "
    "line_code, finished_at, operator_name) SELECT 'WO-B' || lpad(n::text, 9, '0'), "
    "'100-2001', n % 997 + 0.125, 0, 'L1', TIMESTAMP '2026-11-25 08:00:00' + n * INTERVAL "
    "'1 second', '张伟' FROM generate_series(1, {rows}) AS n",
}
INTERFACES = """
interfaces:
  production-report:
    source: mes
    message_type: production_report
    key: work_order
    schema: production_report.schema.json
    inbound:
      - {{kind: sql-poll, url: "{url}", table: mes_completion, batch: {batch}, interval: 200ms}}
    targets:
      erp:
        connector: {{kind: rest, url: "http://127.0.0.1:9/api/production-receipts"}}
"""
SYSTEMS = "systems:\n  mes: {description: MES}\n  erp: {description: ERP}\n"


def engine_for(url: str, **options: Any) -> Any:
    from sqlalchemy.ext.asyncio import create_async_engine

    from esb.sdk import async_database_url

    return create_async_engine(async_database_url(url), **options)


async def admin(server: str, sql: str) -> None:
    from sqlalchemy import text

    engine = engine_for(server, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def execute(url: str, sql: str) -> Any:
    from sqlalchemy import text

    engine = engine_for(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql))
            return result.scalar() if sql.startswith("SELECT") else None
    finally:
        await engine.dispose()


def make_database(kind: str) -> str:
    server = SERVERS[kind]
    name = f"esb_bench_staging_{uuid.uuid4().hex[:8]}"
    asyncio.run(admin(server, f"CREATE DATABASE {name}"))
    url = server.rsplit("/", 1)[0] + f"/{name}"
    script = (ROOT / "tests/data/scenario/inputs" / f"mes_completion.{kind}.sql").read_text()
    table = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
    create = table[table.index("CREATE TABLE") : table.index(";") + 1]
    asyncio.run(execute(url, create))
    return url


def drop_database(kind: str, url: str) -> None:
    force = " WITH (FORCE)" if kind == "postgresql" else ""
    asyncio.run(admin(SERVERS[kind], f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]}{force}"))


def fill(kind: str, url: str, rows: int) -> None:
    asyncio.run(execute(url, FILL[kind].format(rows=rows)))


def count(url: str, where: str) -> int:
    return int(asyncio.run(execute(url, f"SELECT count(*) FROM mes_completion WHERE {where}")))


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def floor(url: str, copy: Path) -> dict[str, Any]:
    """SELECT in key order, 500 at a time, executemany into SQLite: the plain copy."""
    from sqlalchemy import text

    source = engine_for(url)
    target = engine_for(f"sqlite:///{copy}")
    columns = ("id, work_order, material_code, qty_good, qty_scrap, line_code, finished_at, "
               "operator_name")  # fmt: skip
    async with target.begin() as conn:
        await conn.execute(text("PRAGMA journal_mode=WAL"))
        await conn.execute(text(f"CREATE TABLE copy ({columns})"))
    insert = text(
        f"INSERT INTO copy ({columns}) VALUES (:id, :work_order, :material_code, :qty_good, "
        ":qty_scrap, :line_code, :finished_at, :operator_name)"
    )
    select = text(
        f"SELECT {columns} FROM mes_completion WHERE sync_flag = 0 AND id > :after "
        f"ORDER BY id LIMIT {BATCH}"
    )
    rows, after = 0, 0
    started = time.perf_counter()
    async with source.connect() as read, target.connect() as write:
        await write.execute(text("PRAGMA synchronous=FULL"))
        while True:
            batch = [dict(r) for r in (await read.execute(select, {"after": after})).mappings()]
            if not batch:
                break
            for row in batch:  # as the driver gave them; SQLite takes text for the rest
                row["qty_good"], row["qty_scrap"] = str(row["qty_good"]), str(row["qty_scrap"])
                row["finished_at"] = row["finished_at"].isoformat()
            await write.execute(insert, batch)
            await write.commit()
            rows += len(batch)
            after = batch[-1]["id"]
    seconds = time.perf_counter() - started
    await source.dispose()
    await target.dispose()
    return {"rows": rows, "seconds": seconds, "peak_mib": peak_rss_mib()}


async def store_floor(url: str, folder: Path) -> dict[str, Any]:
    """SELECT in key order, 500 at a time, each row stored as an accepted message."""
    from sqlalchemy import text
    from store_floor import Message, StoreFloor

    source = engine_for(url)
    floor = StoreFloor(folder, "production-report", "production_report", "mes")
    select = text(
        f"SELECT * FROM mes_completion WHERE sync_flag = 0 AND id > :after ORDER BY id "
        f"LIMIT {BATCH}"
    )
    rows, after = 0, 0
    started = time.perf_counter()
    async with source.connect() as read:
        while True:
            batch = [dict(r) for r in (await read.execute(select, {"after": after})).mappings()]
            if not batch:
                break
            floor.commit(
                [
                    Message(
                        r["work_order"],
                        f"sql:mes_completion:{r['id']}",
                        json.dumps(r, default=str, ensure_ascii=False),
                        ("erp",),
                    )
                    for r in batch
                ]
            )
            rows += len(batch)
            after = batch[-1]["id"]
    seconds = time.perf_counter() - started
    await source.dispose()
    floor.close()
    return {"rows": rows, "seconds": seconds, "peak_mib": peak_rss_mib()}


def vm_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"gateway exited: see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gateway not ready: see {log}")


def gateway(kind: str, url: str, rows: int, work: Path) -> dict[str, Any]:
    config = work / "config"
    config.mkdir()
    (config / "systems.yaml").write_text(SYSTEMS)
    batch = os.environ.get("STAGING_BATCH", BATCH)  # the source's page; the floor keeps 500
    (config / "interfaces.yaml").write_text(INTERFACES.format(url=url, batch=batch))
    shutil.copy(SCHEMA, config / SCHEMA.name)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ESB_")},
        "ESB_CONFIG": str(config),
        "ESB_DATA_DIR": str(work / "var"),
        "ESB_PORT": str(port),
        "ESB_LOG_LEVEL": "WARNING",
    }
    log = work / "gateway.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "esb", "serve", "--no-relay", "--no-worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(port, proc, log)
        idle_kib = vm_kib(proc.pid, "VmRSS")
        fill(kind, url, rows)
        started = time.perf_counter()
        while (left := count(url, "sync_flag = 0")) > 0:
            assert proc.poll() is None, f"gateway died: see {log}"
            time.sleep(0.25)
        seconds = time.perf_counter() - started
        assert left == 0
        assert count(url, "sync_flag = 1") == rows, "every row accepted (none refused)"
        return {
            "rows": rows,
            "seconds": seconds,
            "peak_mib": vm_kib(proc.pid, "VmHWM") / 1024,
            "idle_mib": idle_kib / 1024,
        }
    finally:
        proc.terminate()  # this child only, by its own handle
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def child(kind: str, url: str, path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, f"--child-{kind}", url, str(path)],
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the {kind} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def measure(kind: str, rows: int, results: Path) -> dict[str, Any]:
    url = make_database(kind)
    work = Path(tempfile.mkdtemp(prefix="staging-", dir=results))
    try:
        fill(kind, url, rows)
        floor_result = child("floor", url, work / "copy.db")
        (work / "store").mkdir()
        store_result = child("store", url, work / "store")
        asyncio.run(execute(url, "DELETE FROM mes_completion"))
        gateway_result = gateway(kind, url, rows, work)
        # the floor again, on the same rows made new: the machine's speed drifts, and the
        # gateway is compared with the floor measured on both sides of it
        asyncio.run(execute(url, "UPDATE mes_completion SET sync_flag = 0, sync_time = NULL"))
        (work / "copy.db").unlink()
        (work / "copy.db-wal").unlink(missing_ok=True)
        after_result = child("floor", url, work / "copy.db")
    finally:
        drop_database(kind, url)
        for name in ("copy.db", "copy.db-wal", "store", "var"):  # big files; logs are kept
            target = work / name
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            elif target.exists():
                target.unlink()
    return {
        "rows": rows,
        "floor": floor_result,
        "floor_after": after_result,
        "store": store_result,
        "gateway": gateway_result,
    }


def rate(result: dict[str, Any]) -> float:
    return float(result["rows"] / result["seconds"])


def floor_rate(found: dict[str, Any]) -> float:
    """The floor's rate: the mean of its runs before and after the gateway."""
    return (rate(found["floor"]) + rate(found["floor_after"])) / 2


def report(kind: str, found: list[dict[str, Any]]) -> str:
    lines = [
        f"MES database: {kind}; gateway: embedded (SQLite), workers off",
        "",
        "| rows | floor rows/s (before / after) | store floor rows/s | gateway rows/s | "
        "gateway / floor | gateway / store floor | peak memory: floor / gateway (idle) |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in found:
        f, g = r["floor"], r["gateway"]
        gateway_rate = rate(g)
        lines.append(
            f"| {r['rows']:,} | {floor_rate(r):,.0f} ({rate(f):,.0f} / "
            f"{rate(r['floor_after']):,.0f}) | {rate(r['store']):,.0f} | {gateway_rate:,.0f} | "
            f"**{gateway_rate / floor_rate(r):.0%}** | {gateway_rate / rate(r['store']):.0%} | "
            f"{f['peak_mib']:.0f} MiB / "
            f"{g['peak_mib']:.0f} MiB ({g['idle_mib']:.0f}) |"
        )
    for size in sorted({r["rows"] for r in found}):
        ratios = sorted(rate(r["gateway"]) / floor_rate(r) for r in found if r["rows"] == size)
        if len(ratios) > 1:
            lines.append(
                f"\n{size:,} rows, {len(ratios)} rounds: gateway / floor median "
                f"**{statistics.median(ratios):.0%}** (range {ratios[0]:.0%} to {ratios[-1]:.0%})"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="100000", help="comma-separated sizes")
    parser.add_argument("--mes", choices=sorted(SERVERS), default="mariadb")
    parser.add_argument("--rounds", type=int, default=1, help="measurements of each size")
    parser.add_argument("--child-floor", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-store", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_floor:
        print(json.dumps(asyncio.run(floor(args.child_floor[0], Path(args.child_floor[1])))))
        return
    if args.child_store:
        url, folder = args.child_store
        print(json.dumps(asyncio.run(store_floor(url, Path(folder)))))
        return
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results = ROOT / "bench" / "results" / f"staging-{stamp}"
    results.mkdir(parents=True)
    sizes = [int(n) for n in args.rows.split(",")]
    found = [measure(args.mes, n, results) for n in sizes for _ in range(args.rounds)]
    (results / "results.json").write_text(json.dumps(found, indent=2))
    print(report(args.mes, found))


if __name__ == "__main__":
    main()
