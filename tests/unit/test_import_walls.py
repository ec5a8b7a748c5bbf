"""The walls between the parts hold: import-linter's contracts in pyproject.toml, checked
with ``lint-imports`` as a person would, and the mapping engine imported on its own.

docs/architecture.md ("Walls") says why each wall stands.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
#: Every wall, by its contract id in pyproject.toml.
STANDING = (
    "mapping-pure",
    "api-no-publish",
    "core-no-adapter",
    "adapters-sdk-only",
    "adapters-independent",
)
#: Libraries the mapping engine must not bring along (web, database, broker).
HEAVY = (
    "sqlalchemy",
    "alembic",
    "starlette",
    "fastapi",
    "uvicorn",
    "aio_pika",
    "aiormq",
    "asyncpg",
    "aiosqlite",
    "httpx",
    "aiohttp",
)
#: Gateway parts the mapping engine must not bring along.
PARTS = ("esb.config", "esb.store", "esb.api", "esb.broker", "esb.connectors", "esb.runtime")


def lint_imports(contract: str) -> subprocess.CompletedProcess[str]:
    found = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert found, "lint-imports is not installed: pip install -e '.[dev]'"
    return subprocess.run(
        [found, "--no-logo", "--no-cache", "--contract", contract, str(PYPROJECT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_contract_is_checked_here() -> None:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    ids = {contract["id"] for contract in config["tool"]["importlinter"]["contracts"]}
    assert ids == set(STANDING)


@pytest.mark.parametrize("contract", STANDING)
def test_wall_holds(contract: str) -> None:
    result = lint_imports(contract)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_mapping_engine_imports_alone() -> None:
    """A fresh interpreter that imports esb.mapping holds no web, database or broker
    library and no other part of the gateway (the contract checks the source; this
    checks what really loads, lazy imports and all)."""
    code = (
        "import esb.mapping, sys\n"
        f"heavy, parts = {HEAVY!r}, {PARTS!r}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
        "print(sorted(m for m in sys.modules if m.startswith(tuple(p + '.' for p in parts))"
        " or m in parts))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.splitlines() == ["[]", "[]"]
