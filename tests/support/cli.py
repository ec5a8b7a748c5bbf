"""The real ``esb`` command in a subprocess, and scratch PostgreSQL databases for it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from tests.support.fixtures import PG_ADMIN_URL

ESB = [sys.executable, "-m", "esb"]


def esb(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
    lang: str = "en",
) -> subprocess.CompletedProcess[str]:
    """``esb ARGS`` with the test's environment (the shell's ESB_* variables removed), in
    ``lang`` (ESB_LANG; ``env`` may set another, or "" leaves the choice to the locale)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ESB_")}
    return subprocess.run(
        [*ESB, *args],
        env={**clean, "ESB_LANG": lang, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def refused_in_words(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The command failed with ``code`` and a few lines of explanation, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert len(result.stderr.strip().splitlines()) <= 8, result.stderr
    return result.stderr


def flat(text: str) -> str:
    """Text as one line: click's error box wraps long messages over several."""
    return " ".join(text.replace("│", " ").split())


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def scratch_database() -> Iterator[str]:
    """A PostgreSQL database with nothing in it (no `esb db upgrade` yet), dropped after."""
    name = f"esb_scratch_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
