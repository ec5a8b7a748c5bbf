"""A connector installed as its own package is found through the ``esb.connectors`` entry point.

``tests/data/plugin-example`` is built and installed by pip into a scratch folder,
exactly as a third party would ship it; a fresh interpreter with that folder on its
path then loads the registry, validates the connector's config and delivers once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[1] / "data" / "plugin-example"

PROBE = """
import asyncio, json, sys, uuid
from pathlib import Path
import esb.config  # as `esb serve` does: the configuration package first, then the registry
from esb.connectors import ConnectorContext, DeliveryRequest, load_registry

registry = load_registry()
found = {"kinds": sorted(registry.classes)}
if "echo" in registry.classes:
    cls = registry.classes["echo"]
    config = cls.Config.model_validate({"kind": "echo", "prefix": "X-"})
    try:
        cls.Config.model_validate({"kind": "echo", "colour": "red"})
    except ValueError as exc:
        found["refused"] = str(exc).splitlines()[1]
    connector = registry.build(config, ConnectorContext(Path("."), "t", "i"))
    request = DeliveryRequest(uuid.uuid4(), uuid.uuid4(), "i", "t", "m", "SO-1", 1, {"a": 1})
    found["detail"] = asyncio.run(connector.deliver(request)).detail
    found["file"] = sys.modules[cls.__module__].__file__
print(json.dumps(found))
"""


def pip_install(source: Path, target: Path) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
               "--no-build-isolation", "--target", str(target), str(source)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def probe(pythonpath: Path | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_a_separately_installed_connector_is_found_validated_and_used(tmp_path: Path) -> None:
    source, site = tmp_path / "echo-src", tmp_path / "site"
    shutil.copytree(PLUGIN, source)  # build in a copy: the repository stays clean
    pip_install(source, site)
    without = probe(None)["kinds"]
    assert isinstance(without, list)
    assert "echo" not in without
    assert {"file", "rest", "soap"} <= set(without)
    found = probe(site)
    assert found["kinds"] == sorted([*without, "echo"])
    assert found["detail"] == {"echo": {"a": 1}, "key": "X-SO-1"}
    assert "colour" in str(found["refused"])
    assert str(found["file"]).startswith(str(site))
