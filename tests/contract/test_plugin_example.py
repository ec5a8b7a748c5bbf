"""A plugin shipped as its own package is found and keeps the contract, tested as its author would.

``examples/plugin-example`` is built and installed by pip into a scratch folder (the
venv stays clean), exactly as a third party would ship it. With that folder on the
path, the plugin's own tests run from its own folder: they put its connector and its
source through the shipped contract suite (``esb.testing``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[2] / "examples" / "plugin-example"
KINDS = {"connectors": "example-chat", "sources": "example-webhook"}
CONTRACT_TESTS = (
    "TestChat::test_a_hanging_target_is_retried_later_within_the_connector_timeout",
    "TestChat::test_a_secret_never_shows",
    "TestWebhook::test_a_store_outage_loses_nothing",
    "TestWebhook::test_stops_promptly_while_a_document_hangs",
)

PROBE = """
import json
from esb.connectors import load_registry

registry = load_registry()
print(json.dumps({"connectors": sorted(registry.classes), "sources": sorted(registry.inbound)}))
"""


def environment(site: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the example's folder stays as committed
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return env


def pip_install(source: Path, target: Path) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
               "--no-build-isolation", "--target", str(target), str(source)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def installed(site: Path | None) -> dict[str, list[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE], env=environment(site),
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    found: dict[str, list[str]] = json.loads(done.stdout)
    return found


def test_the_example_plugin_is_found_through_its_entry_points(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(PLUGIN, tmp_path / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    pip_install(tmp_path / "src", site)  # built in a copy: the repository stays clean
    without, found = installed(None), installed(site)
    for group, kind in KINDS.items():
        assert kind not in without[group], f"{kind} is installed in the venv itself"
        assert found[group] == sorted([*without[group], kind])
    assert {"file", "rest", "soap"} <= set(found["connectors"])


def test_the_example_plugin_passes_the_contract_suite_from_its_own_folder(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(PLUGIN, tmp_path / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    pip_install(tmp_path / "src", site)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v"]
    done = subprocess.run(command, cwd=PLUGIN, env=environment(site), capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "SKIPPED" not in done.stdout, done.stdout
    for test in CONTRACT_TESTS:
        assert f"::{test} PASSED" in done.stdout, f"{test} did not run:\n{done.stdout}"
