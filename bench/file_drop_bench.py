"""File-drop throughput: a big GB18030 shipment CSV into messages, against Python's csv.

    .venv/bin/python bench/file_drop_bench.py --sizes 100MB,1GB [--mode embedded|postgresql]

For each size it writes a shipment CSV (GB18030, CRLF, header; unique order numbers,
every fourth row shipped), then measures, each in a fresh child process:

- **raw**: ``csv.reader`` over ``open(path, encoding="gb18030", newline="")``, counting
  rows: the fastest Python reads the file at all, the limit;
- **reader**: the file drop's own reading alone (the SHA-256 + decoding pass, then the
  rows as dicts in batches), no database;
- **store**: the floor of storing the rows: the message, delivery and outbox rows the
  gateway writes for each CSV row, by plain sqlite3 into a migrated SQLite database
  (so it is the embedded mode's floor, also in a ``--mode postgresql`` run);
- **gateway**: ``esb serve --no-relay --no-worker`` on the shipped demo configuration,
  the file dropped into its folder, timed from the drop until the ledger says ``done``:
  every row checked against the interface's schema, routed, and committed as a message
  with its deliveries and outbox rows (workers are off: delivery is measured by the
  pipeline benchmark). Its peak memory is the process's VmHWM.

Prints one Markdown table; logs and ``results.json`` go to ``bench/results/file-drop-*``.
``--mode postgresql`` stores into PostgreSQL (``--pg-admin-url``'s server; a database is
created and dropped for each size) instead of SQLite. Each child is stopped by its pid.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HEADER = "order_no,ship_date,carrier,tracking_no,status\r\n"
CARRIERS = ("顺丰速运", "京东物流", "德邦快递", "中通快递")
UNITS = {"MB": 10**6, "GB": 10**9}


def size_of(text: str) -> int:
    return int(float(text[:-2]) * UNITS[text[-2:].upper()])


def write_csv(path: Path, size: int) -> int:
    """A shipment file of about ``size`` bytes; returns its number of rows."""
    rows = 0
    with path.open("wb") as out:
        out.write(HEADER.encode("gb18030"))
        written = len(HEADER)
        while written < size:
            chunk = "".join(
                f"SO-B{n:010d},2026-11-25 {n % 24:02d}:{n % 60:02d},{CARRIERS[n % 4]},"
                f"SF{n:012d},{'S' if n % 4 == 0 else 'P'}\r\n"
                for n in range(rows, rows + 10_000)
            ).encode("gb18030")
            out.write(chunk)
            written += len(chunk)
            rows += 10_000
    return rows


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_raw(path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    with path.open(encoding="gb18030", newline="") as text:
        rows = sum(1 for _ in csv.reader(text)) - 1
    return {"rows": rows, "seconds": time.perf_counter() - started, "peak_mib": peak_rss_mib()}


def measure_reader(path: Path) -> dict[str, Any]:
    from esb_file import FileDropConfig
    from esb_file.readers import Row, batches, fingerprint

    config = FileDropConfig.model_validate(
        {"kind": "file-drop", "folder": ".", "encoding": "gb18030"}
    )
    started, rows = time.perf_counter(), 0
    fd = os.open(path, os.O_RDONLY)
    try:
        found = fingerprint(fd, config)
        assert found.problem is None
        for batch in batches(fd, config, found):
            rows += sum(1 for item in batch if isinstance(item, Row))
    finally:
        os.close(fd)
    return {"rows": rows, "seconds": time.perf_counter() - started, "peak_mib": peak_rss_mib()}


def measure_store(path: Path) -> dict[str, Any]:
    """The store's floor: the rows the gateway writes per CSV row (the message; a delivery
    and an outbox row for the ERP, and for finance when the row is shipped) by sqlite3's
    executemany into the real (migrated) schema, 500 CSV rows per commit, WAL and
    synchronous=FULL as the gateway runs: no validation, no mapping, no framework. Rows
    come from csv.reader, so reading the file is included."""
    from store_floor import Message, StoreFloor

    folder = Path(tempfile.mkdtemp(prefix="esb-store-floor-", dir=path.parent))
    floor = StoreFloor(folder, "shipment", "shipment", "wms")
    started, rows = time.perf_counter(), 0

    def commit(chunk: list[list[str]], start: int) -> None:
        floor.commit(
            [
                Message(
                    row[0],
                    f"file:x:{n}",
                    json.dumps(dict(zip(header, row, strict=True)), ensure_ascii=False),
                    ("erp", "finance") if row[4] == "S" else ("erp",),  # when: status == 'S'
                )
                for n, row in enumerate(chunk, start)
            ]
        )

    with path.open(encoding="gb18030", newline="") as text:
        reader = csv.reader(text)
        header = next(reader)
        chunk: list[list[str]] = []
        for row in reader:
            chunk.append(row)
            if len(chunk) == 500:
                commit(chunk, rows)
                rows, chunk = rows + len(chunk), []
        if chunk:
            commit(chunk, rows)
            rows += len(chunk)
    seconds = time.perf_counter() - started
    floor.close()
    shutil.rmtree(folder)
    return {"rows": rows, "seconds": seconds, "peak_mib": peak_rss_mib()}


def vm_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def ledger_status(env: dict[str, str]) -> tuple[str, int] | None:
    query = (  # the file drop's ledger: its state's file/<sha256> values
        "SELECT value FROM source_state WHERE kind = 'file-drop' AND key LIKE 'file/%' "
        "ORDER BY updated_at DESC LIMIT 1"
    )
    if "ESB_DATABASE_URL" in env:
        import asyncpg

        async def ask() -> Any:
            conn = await asyncpg.connect(env["ESB_DATABASE_URL"])
            try:
                return await conn.fetchrow(query)
            finally:
                await conn.close()

        row = asyncio.run(ask())
    else:
        with sqlite3.connect(Path(env["ESB_DATA_DIR"]) / "esb.db", timeout=30) as conn:
            row = conn.execute(query).fetchone()
    if not row:
        return None
    value = json.loads(row[0])
    return (value["status"], value["rows_accepted"])


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


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure_gateway(path: Path, rows: int, work: Path, env: dict[str, str]) -> dict[str, Any]:
    drop = work / "drop"
    port = free_port()
    env = {
        **os.environ,
        **env,
        "DROP_DIR": str(drop),
        "ESB_PORT": str(port),
        "ESB_LOG_LEVEL": "WARNING",
        "ESB_CONFIG": str(ROOT / "examples" / "demo-factory"),
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
        folder = drop / "wms" / "shipments"
        idle_kib = vm_kib(proc.pid, "VmRSS")
        os.rename(path, folder / f".{path.name}.tmp")  # a writer's temporary name, then...
        started = time.perf_counter()
        os.rename(folder / f".{path.name}.tmp", folder / path.name)  # ... the real one
        while (status := ledger_status(env)) is None or status[0] == "processing":
            assert proc.poll() is None, f"gateway died: see {log}"
            time.sleep(0.25)
        seconds = time.perf_counter() - started
        assert status == ("done", rows), status
        return {
            "rows": rows,
            "seconds": seconds,
            "peak_mib": vm_kib(proc.pid, "VmHWM") / 1024,
            "idle_mib": idle_kib / 1024,
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def child(kind: str, path: Path) -> dict[str, Any]:
    """Run one measurement in a fresh process, so its peak memory is its own."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def postgresql_env(admin_url: str, run: str) -> tuple[dict[str, str], str]:
    import asyncpg

    name = f"esb_bench_filedrop_{run}"

    async def create() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    env = {"ESB_DATABASE_URL": url, "ESB_ADMIN_KEY": "bench-admin-key-0123456789"}
    subprocess.run(
        [sys.executable, "-m", "esb", "db", "upgrade"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    return env, name


def drop_database(admin_url: str, name: str) -> None:
    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


def run_size(label: str, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    work = out / label
    work.mkdir(parents=True)
    path = work / f"shipments-{label}.csv"
    rows = write_csv(path, size_of(label))
    result: dict[str, Any] = {"size": label, "bytes": path.stat().st_size, "rows": rows}
    result["raw"] = child("raw", path)
    result["reader"] = child("reader", path)
    result["store"] = child("store", path)
    env = {"ESB_DATA_DIR": str(work / "var")}
    if args.mode == "postgresql":
        more, name = postgresql_env(args.pg_admin_url, f"{uuid.uuid4().hex[:8]}_{label.lower()}")
        try:
            result["gateway"] = measure_gateway(path, rows, work, env | more)
        finally:
            drop_database(args.pg_admin_url, name)
    else:
        result["gateway"] = measure_gateway(path, rows, work, env)
    for leftover in (work / "drop" / "wms" / "shipments" / "archive").glob("*.csv"):
        leftover.unlink()  # the file moved into the drop folder, and on to its archive
    return result


def table(results: list[dict[str, Any]], mode: str) -> str:
    lines = [
        f"| file ({mode}) | rows | raw csv rows/s | reader rows/s | store floor rows/s | "
        "gateway rows/s | gateway / raw | gateway / store floor | raw peak MiB | "
        "gateway peak MiB (idle) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        raw, reader, store, gateway = (
            r["rows"] / r[k]["seconds"] for k in ("raw", "reader", "store", "gateway")
        )
        lines.append(
            f"| {r['size']} ({r['bytes'] / 1e6:.0f} MB) | {r['rows']:,} | {raw:,.0f} | "
            f"{reader:,.0f} | {store:,.0f} | {gateway:,.0f} | {gateway / raw:.1%} | "
            f"{gateway / store:.0%} | {r['raw']['peak_mib']:.0f} | "
            f"{r['gateway']['peak_mib']:.0f} ({r['gateway']['idle_mib']:.0f}) |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100MB,1GB")
    parser.add_argument("--mode", choices=["embedded", "postgresql"], default="embedded")
    parser.add_argument("--pg-admin-url", default="postgresql://127.0.0.1:5432/test")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure = {"raw": measure_raw, "reader": measure_reader, "store": measure_store}[
            args.child[0]
        ]
        print(json.dumps(measure(Path(args.child[1]))))
        return
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = (args.out or ROOT / "bench" / "results" / f"file-drop-{stamp}").resolve()
    results = [run_size(label, args, out) for label in args.sizes.split(",")]
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(table(results, args.mode))


if __name__ == "__main__":
    main()
