"""The gateway as a real OS process (``python -m esb serve``), so a test can SIGKILL it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx


class GatewayProcess:
    """``esb serve`` by default; ``command`` runs another part (``worker``, ``relay``)."""

    def __init__(
        self,
        env: dict[str, str],
        port: int,
        log_path: Path,
        args: tuple[str, ...] = (),
        command: str = "serve",
    ) -> None:
        self.env = {**os.environ, **env, "ESB_PORT": str(port)}
        self.args = args
        self.command = command
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "esb", self.command, *self.args],
            env=self.env,
            stdout=log,
            stderr=log,
        )

    async def wait_ready(self, timeout: float = 30.0) -> None:
        async with httpx.AsyncClient(timeout=1) as client:
            for _ in range(int(timeout * 10)):
                assert self.proc is not None
                assert self.proc.poll() is None, self.tail()
                try:
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"gateway not ready:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a power cut of the process."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
