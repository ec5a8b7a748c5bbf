"""What the pipeline benchmark starts and must clean up: processes, databases, queues; CPU use.

Every child process is started in its own session (a Ctrl-C reaches only the
benchmark, which then stops the children in order) and is told by the kernel to
exit if the benchmark dies (``PR_SET_PDEATHSIG``). Databases and broker objects
get unique names and are dropped by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika
import asyncpg
import httpx

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM when the benchmark process goes away."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """One started process, its output in a log file; ``stop`` by its pid, never by name."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    async def wait_ready(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise RuntimeError(f"{self.name} exited early; see {self.log}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready within {timeout:.0f}s; see {self.log}")

    async def stop(self, grace: float = 20.0) -> None:
        """SIGTERM, wait up to ``grace`` seconds, then SIGKILL."""
        if not self.alive():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.proc.wait, grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait)


async def run_checked(argv: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(*argv, env=env, stdout=out, stderr=out)
        if await proc.wait() != 0:
            raise RuntimeError(f"{' '.join(argv[-3:])} failed; see {log}")


# -- PostgreSQL and RabbitMQ ---------------------------------------------------------------
@dataclass
class Postgres:
    """Creates databases through an admin URL and drops exactly those again."""

    admin_url: str
    created: list[str] = field(default_factory=list)

    def url(self, name: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create(self, name: str) -> str:
        await self._admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url(name)

    async def drop(self, name: str) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    async def drop_all(self) -> None:
        while self.created:
            await self.drop(self.created[-1])


async def delete_broker_objects(url: str, queues: Iterable[str], exchanges: Iterable[str]) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for queue in queues:
            await channel.queue_delete(queue)
        for exchange in exchanges:
            await channel.exchange_delete(exchange)


# -- CPU from /proc ------------------------------------------------------------------------
def _cpu_ticks(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return 0
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15)


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def pids_matching(test: Callable[[str], bool]) -> list[int]:
    """Processes whose command line passes ``test`` (for the database and broker columns)."""
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and test(_cmdline(p))]


def postgres_pids(database: str | None) -> list[int]:
    """The server's own processes plus the backends of ``database`` (not other people's)."""

    def ours(cmd: str) -> bool:
        if not cmd.startswith("postgres"):
            return False
        is_backend = "127.0.0.1(" in cmd or "[local]" in cmd or "::1(" in cmd
        return not is_backend or (database is not None and f" {database} " in cmd)

    return pids_matching(ours)


def rabbitmq_pids() -> list[int]:
    return pids_matching(lambda cmd: "beam.smp" in cmd and "-s rabbit boot" in cmd)


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuWatch:
    """% of one core used by each named group of processes between ``start`` and ``stop``."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups
        self.pids: dict[str, list[int]] = {}
        self.before: dict[str, int] = {}

    def start(self) -> CpuWatch:
        self.pids = {name: find() for name, find in self.groups.items()}
        self.before = {n: sum(map(_cpu_ticks, pids)) for n, pids in self.pids.items()}
        self.machine_before = _machine_ticks()
        self.t0 = time.monotonic()
        return self

    def stop(self) -> dict[str, float]:
        seconds = max(time.monotonic() - self.t0, 1e-6)
        usage = {
            name: round(
                100.0 * (sum(map(_cpu_ticks, pids)) - self.before[name]) / CLOCK_TICKS / seconds, 1
            )
            for name, pids in self.pids.items()
        }
        busy0, total0 = self.machine_before
        busy1, total1 = _machine_ticks()
        cores = os.cpu_count() or 1
        machine = 100.0 * cores * (busy1 - busy0) / max(total1 - total0, 1)
        usage["machine"] = round(machine, 1)
        usage["others"] = round(
            max(0.0, machine - sum(v for k, v in usage.items() if k != "machine")), 1
        )
        return usage


async def wait_quiet(busy_pct: float, window: float, max_wait: float) -> float:
    """Wait until the machine was under ``busy_pct`` % (of all cores) for ``window`` seconds.

    Returns the busy % of the last window (above ``busy_pct`` if ``max_wait`` ran out).
    """
    deadline = time.monotonic() + max_wait
    while True:
        busy0, total0 = _machine_ticks()
        await asyncio.sleep(window)
        busy1, total1 = _machine_ticks()
        busy = 100.0 * (busy1 - busy0) / max(total1 - total0, 1)
        if busy < busy_pct or time.monotonic() > deadline:
            return round(busy, 1)
