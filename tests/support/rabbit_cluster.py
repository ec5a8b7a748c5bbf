"""A RabbitMQ cluster of our own on loopback: nodes of the machine's ``rabbitmq-server``.

Each node has its own name, AMQP and distribution ports, data and log folders and its
own config file (the system's ``/etc/rabbitmq`` config may pin the listener to 5672),
and all of them share one Erlang cookie kept in the test's folder (``HOME``), so
``rabbitmqctl`` reaches them and nothing of the system node is touched. A node is
started from RabbitMQ's own scripts as the current user (no ``su``, so no file
ownership to fix), killed by the PID its beam wrote, and restarted with the same name
and data folder: it rejoins the cluster by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from esb.testing.served import free_port

#: Where the packaged scripts live; /usr/sbin's wrappers would ``su rabbitmq`` first.
SCRIPT_FOLDERS = (Path("/usr/lib/rabbitmq/bin"), Path("/usr/local/lib/rabbitmq/bin"))
CTL_TIMEOUT_S = 90


def rabbitmq_scripts() -> Path | None:
    """The folder holding ``rabbitmq-server`` and ``rabbitmqctl``; None: not installed."""
    found = shutil.which("rabbitmq-server")
    candidates = [*SCRIPT_FOLDERS, *([Path(found).resolve().parent] if found else [])]
    for folder in candidates:
        if (folder / "rabbitmq-server").exists() and (folder / "rabbitmqctl").exists():
            return folder
    return None


@dataclass
class RabbitNode:
    """One node: ``start`` waits until it runs, ``kill`` is a SIGKILL of its beam."""

    name: str
    folder: Path
    home: Path
    scripts: Path
    amqp_port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    shell: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"

    @property
    def pid_file(self) -> Path:
        return self.folder / "beam.pid"

    def env(self) -> dict[str, str]:
        f = self.folder
        return {
            **os.environ,
            "HOME": str(self.home),  # the cookie: $HOME/.erlang.cookie
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(f / "mnesia"),
            "RABBITMQ_LOG_BASE": str(f / "log"),
            "RABBITMQ_PID_FILE": str(self.pid_file),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(f / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(f / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(f / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(f / "rabbitmq-env.conf"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def prepare(self) -> None:
        (self.folder / "log").mkdir(parents=True, exist_ok=True)
        (self.folder / "enabled_plugins").write_text("[].\n")  # no management listener
        (self.folder / "rabbitmq-env.conf").write_text("")  # not the system's NODENAME
        (self.folder / "advanced.config").write_text("[].\n")  # nor its advanced config
        (self.folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.amqp_port}\nloopback_users = none\n"
        )

    def start(self) -> None:
        """Start the node (same name and data folder as before) and wait until it runs."""
        self.pid_file.unlink(missing_ok=True)
        out = (self.folder / "server.out").open("ab")
        self.shell = subprocess.Popen(
            [str(self.scripts / "rabbitmq-server")],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        self.ctl("wait", str(self.pid_file), "--timeout", str(CTL_TIMEOUT_S - 10))

    @property
    def beam_pid(self) -> int:
        return int(self.pid_file.read_text().strip())

    def kill(self) -> None:
        """SIGKILL the beam: no shutdown code runs, its connections just drop."""
        if self.shell is None:
            return
        with contextlib.suppress(ProcessLookupError, FileNotFoundError, ValueError):
            os.kill(self.beam_pid, signal.SIGKILL)
        try:
            self.shell.wait(timeout=30)  # the start script exits once its beam is gone
        except subprocess.TimeoutExpired:  # no beam PID yet (a start that failed): its group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.shell.pid, signal.SIGKILL)
            self.shell.wait()
        self.shell = None

    def ctl(self, *args: str, node: str | None = None) -> str:
        done = subprocess.run(
            [str(self.scripts / "rabbitmqctl"), "-n", node or self.name, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=CTL_TIMEOUT_S,
        )
        if done.returncode != 0:
            log = self.folder / "server.out"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"rabbitmqctl {' '.join(args)} on {self.name}: {done.stdout}{done.stderr}\n{tail}"
            )
        return done.stdout

    def tail(self) -> str:
        logs = sorted((self.folder / "log").glob("*.log"))
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in logs)


class RabbitCluster:
    """``size`` nodes joined into one cluster; every node is killed when it is closed."""

    def __init__(self, folder: Path, scripts: Path, size: int = 3) -> None:
        home = folder / "home"
        home.mkdir(parents=True, exist_ok=True)
        cookie = home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(16).upper())
        cookie.chmod(0o400)
        tag = uuid.uuid4().hex[:6]
        self.nodes = [
            RabbitNode(f"esbc{n}x{tag}@localhost", folder / f"node{n}", home, scripts)
            for n in range(1, size + 1)
        ]

    @property
    def urls(self) -> str:
        """ESB_BROKER_URL for the cluster: every node, comma-separated."""
        return ",".join(node.url for node in self.nodes)

    async def start(self) -> None:
        for node in self.nodes:
            node.prepare()
        await asyncio.gather(*(asyncio.to_thread(node.start) for node in self.nodes))
        first = self.nodes[0]
        for node in self.nodes[1:]:
            await asyncio.to_thread(self._join, node, first)
        await self.wait_running(len(self.nodes))

    @staticmethod
    def _join(node: RabbitNode, seed: RabbitNode) -> None:
        node.ctl("stop_app")
        node.ctl("join_cluster", seed.name)
        node.ctl("start_app")

    def running(self, via: RabbitNode) -> set[str]:
        """Names of the nodes the cluster runs, as ``via`` sees them."""
        text = via.ctl("eval", "rabbit_nodes:all_running().")
        return {node.name for node in self.nodes if node.name in text}

    async def wait_running(self, count: int, timeout: float = 90.0) -> None:
        via = self.nodes[0] if self.nodes[0].shell is not None else self.nodes[-1]
        deadline = time.monotonic() + timeout
        while len(await asyncio.to_thread(self.running, via)) < count:
            assert time.monotonic() < deadline, f"cluster has not {count} nodes running"
            await asyncio.sleep(0.5)

    def node(self, name: str) -> RabbitNode:
        return next(node for node in self.nodes if node.name == name)

    def leader(self, queue: str) -> RabbitNode:
        """The node leading the quorum queue ``queue`` now."""
        via = next(node for node in self.nodes if node.shell is not None)
        text = via.ctl("list_queues", "name", "leader", "--quiet", "--no-table-headers")
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == queue:
                return self.node(parts[1])
        raise AssertionError(f"no leader for {queue} in:\n{text}")

    def messages(self, queue: str) -> int:
        """Messages in ``queue``, ready and unacknowledged."""
        via = next(node for node in self.nodes if node.shell is not None)
        text = via.ctl("list_queues", "name", "messages", "--quiet", "--no-table-headers")
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == queue:
                return int(parts[1])
        return 0

    def close(self) -> None:
        for node in self.nodes:
            node.kill()


@contextlib.contextmanager
def own_cluster(folder: Path, size: int = 3) -> Iterator[RabbitCluster]:
    """``size`` nodes of a test's own (not started yet), killed by PID at the end; the test
    is skipped where ``rabbitmq-server`` is not installed."""
    scripts = rabbitmq_scripts()
    if scripts is None:
        pytest.skip("rabbitmq-server is not installed: no RabbitMQ node of the test's own")
    cluster = RabbitCluster(folder, scripts, size)
    try:
        yield cluster
    finally:
        cluster.close()
