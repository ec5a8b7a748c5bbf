"""``esb worker`` and ``esb relay`` with ``ESB_METRICS_PORT``: /healthz, /readyz and
/metrics for an orchestrator's probes and Prometheus, and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path

import httpx

from tests.support.gateway import ADMIN_KEY, rest_interface, write_config
from tests.support.process import GatewayProcess
from tests.support.serving import free_port
from tests.support.target import TargetServer


def process(command: str, env: dict[str, str], log: Path) -> GatewayProcess:
    port = free_port()
    return GatewayProcess({**env, "ESB_METRICS_PORT": str(port)}, port, log, command=command)


async def answer(process: GatewayProcess, path: str) -> httpx.Response:
    """The endpoint's answer once the process listens (it does once its parts started)."""
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(300):
            assert process.proc is not None
            assert process.proc.poll() is None, process.tail()
            try:
                return await client.get(f"{process.url}{path}")
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise AssertionError(f"{path} never answered:\n{process.tail()}")


async def test_worker_and_relay_answer_probes_and_stop_on_sigterm(
    pg_clean: str, rabbit_url: str, target: TargetServer, tmp_path: Path
) -> None:
    env = {
        "ESB_CONFIG": str(write_config(tmp_path / "cfg", rest_interface(target.url))),
        "ESB_ADMIN_KEY": ADMIN_KEY,
        "ESB_DATABASE_URL": pg_clean,
        "ESB_BROKER_URL": rabbit_url,
        "ESB_BROKER_PREFIX": f"esbtest-{uuid.uuid4().hex[:10]}",
        "ESB_DATA_DIR": str(tmp_path / "var"),
    }
    silent_broker = f"amqp://guest:guest@127.0.0.1:{free_port()}/"  # nothing listens there
    worker = process("worker", env, tmp_path / "worker.log")
    relay = process("relay", {**env, "ESB_BROKER_URL": silent_broker}, tmp_path / "relay.log")
    try:
        worker.start()
        relay.start()
        assert (await answer(worker, "/healthz")).status_code == 200
        await worker.wait_ready()  # /readyz: database and RabbitMQ ok
        ready = (await answer(worker, "/readyz")).json()
        assert ready == {"ready": True, "checks": {"database": "ok", "broker": "ok"}}
        assert "esb_attempts_total" in (await answer(worker, "/metrics")).text

        assert (await answer(relay, "/healthz")).status_code == 200  # it runs...
        not_ready = await answer(relay, "/readyz")  # ...but cannot relay: no broker
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["broker"] == "unavailable"

        for stopped in (worker, relay):
            assert stopped.proc is not None
            stopped.proc.send_signal(signal.SIGTERM)
            # uvicorn stops the parts, then ends by the signal it got (as `esb serve` does)
            assert await asyncio.to_thread(stopped.proc.wait, 30) == -signal.SIGTERM
            assert "Application shutdown complete" in stopped.tail(), stopped.tail()
    finally:
        worker.stop()
        relay.stop()
