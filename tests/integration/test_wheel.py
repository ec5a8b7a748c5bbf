"""The wheel is the whole product: installed into a fresh venv outside the checkout,
``esb serve`` in an empty folder with no settings runs the demo factory end to end.

The wheel is built the way the Dockerfile builds it (pyproject.toml, README.md, src/
and adapters/ copied to a fresh folder, then pip), so a file the wheel leaves out
(the demo factory, its master data, the migrations) fails here, not on a user's
machine. The venv gets the wheel's dependencies from the package index as a user's
would (pip's cache keeps that short).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.serving import free_port

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
ORDER = json.loads((ROOT / "tests/data/scenario/inputs/sales_order_normal.json").read_text())
DEFAULT_PORT = 8000
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "src", "adapters")


Serve = Callable[..., None]


def _run(command: list[str], timeout: float = 300) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"


def _wheel(folder: Path) -> Path:
    source = folder / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "tests")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = folder / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
          "-w", str(dist), str(source)])  # fmt: skip
    (wheel,) = dist.glob("esb_gateway-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a fresh venv with the wheel (and its dependencies) installed."""
    folder = tmp_path_factory.mktemp("wheel")
    wheel = _wheel(folder)
    venv = folder / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], timeout=600)
    return bin_dir


def _clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any ESB_* setting or Python path of the checkout."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ESB_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    return {**env, **settings}


def test_the_package_is_the_installed_one(installed: Path, tmp_path: Path) -> None:
    """esb, its adapters and the demo factory come from the venv, not from the checkout."""
    code = (
        "import esb, esb_rest, esb.settings; "
        "print(esb.__file__); print(esb_rest.__file__); print(esb.settings.demo_config_dir())"
    )
    result = subprocess.run(
        [str(installed / "python"), "-c", code],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    venv = installed.parent.resolve()
    for line in result.stdout.splitlines():
        assert Path(line).resolve().is_relative_to(venv), line
    demo = Path(result.stdout.splitlines()[-1])
    assert (demo / "systems.yaml").is_file()
    assert (demo / "masterdata" / "customer.csv").is_file()


@pytest.fixture
def serve(installed: Path, tmp_path: Path) -> Iterator[Serve]:
    """Start ``esb serve`` in an empty folder with the given settings; stopped afterwards."""
    started: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "esb.log"

    def start(**settings: str) -> None:
        empty = tmp_path / "empty"
        empty.mkdir()
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [str(installed / "esb"), "serve"],
                cwd=empty,
                env=_clean_env(**settings),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started.append(proc)

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-40:]) if log.exists() else ""


def _order_reaches_the_mes(url: str, log: Path) -> None:
    """The README's first minutes: send a sales order as the ERP, see the MES stand-in
    receive the work order mapped through the master data."""
    with httpx.Client(base_url=url, timeout=5) as client:
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"esb serve not ready at {url}:\n{_tail(log)}"
            time.sleep(0.2)
        answer = client.post(
            "/v1/messages/sales_order",
            json=ORDER,
            headers={"Authorization": "Bearer demo-erp-key"},
        )
        assert answer.status_code == 202, answer.text
        deadline = time.monotonic() + 30
        while not (received := client.get("/demo/mes/received").json()):
            assert time.monotonic() < deadline, f"nothing reached the MES stand-in:\n{_tail(log)}"
            time.sleep(0.2)
    (work_order,) = received
    assert work_order["path"] == "/demo/mes/api/work-orders"
    assert work_order["body"]["workOrderNo"] == ORDER["OrderNo"]
    assert work_order["body"]["customerId"] == "900123"  # masterdata/customer.csv, shipped


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_serve_with_no_settings_runs_the_demo(serve: Serve, tmp_path: Path) -> None:
    assert _port_is_free(DEFAULT_PORT), (
        f"port {DEFAULT_PORT} is in use: this test runs `esb serve` with no settings, "
        "which listens there; stop what holds it"
    )
    serve()
    _order_reaches_the_mes(f"http://127.0.0.1:{DEFAULT_PORT}", tmp_path / "esb.log")


def test_the_demo_follows_esb_port(serve: Serve, tmp_path: Path) -> None:
    """ESB_HOST as in the Docker image (every interface) and another port: the demo's
    targets are the stand-ins at that port, reached over loopback."""
    port = free_port()
    serve(ESB_HOST="0.0.0.0", ESB_PORT=str(port))
    _order_reaches_the_mes(f"http://127.0.0.1:{port}", tmp_path / "esb.log")
