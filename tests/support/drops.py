"""Helpers for file-drop and SOAP endpoint tests: drop a file as writers do, wait, read
the ledger (the file drop's state), count, read the log."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.stdlib import ProcessorFormatter

from esb.logs import configure_logging
from esb.store.tables import messages, source_state
from tests.support.gateway import GatewayUnderTest

HEADER = "order_no,ship_date,carrier,tracking_no,status"


def drop(folder: Path, name: str, content: bytes) -> Path:
    """As a well-behaved writer does: a temporary name, then the real one."""
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{name}.tmp"
    temporary.write_bytes(content)
    temporary.rename(folder / name)
    return folder / name


def shipment_rows(count: int, tag: str, shipped_every: int = 0) -> list[str]:
    """``count`` valid shipment rows: status P (the demo sends those to the ERP only), and
    S for every ``shipped_every``-th row."""
    return [
        f"SO-{tag}-{n:05d},2026-11-25 09:30,顺丰速运,SF{n:010d},"
        + ("S" if shipped_every and n % shipped_every == 0 else "P")
        for n in range(count)
    ]


def shipment_csv(tag: str, rows: int, shipped_every: int = 0) -> bytes:
    lines = [HEADER, *shipment_rows(rows, tag, shipped_every)]
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


def names(folder: Path) -> list[str]:
    """What a folder holds, without the gateway's hidden temporary files (``.esb-*.tmp``)
    that exist for a moment while a report is written."""
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


async def eventually(check: Any, timeout: float = 20.0, what: str = "") -> Any:
    """Poll ``check`` (sync or async) until it is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class LedgerRow:
    """One content of the file drop's ledger (its ``file/<sha256>`` state), as tests read it."""

    interface: str
    sha256: str
    name: str
    size: int
    status: str
    rows_accepted: int
    rows_refused: int
    report: str | None  # JSON
    started_at: str


async def ledger_rows(engine: AsyncEngine) -> list[LedgerRow]:
    """Every file-drop ledger entry, in the order the contents were first found."""
    query = select(source_state.c.interface, source_state.c.key, source_state.c.value).where(
        source_state.c.kind == "file-drop", source_state.c.key.startswith("file/")
    )
    async with engine.connect() as conn:
        found = (await conn.execute(query)).all()
    rows = []
    for interface, key, text in found:
        value = orjson.loads(text)
        report = value["report"]
        rows.append(
            LedgerRow(
                interface=interface,
                sha256=key.removeprefix("file/"),
                name=value["name"],
                size=value["size"],
                status=value["status"],
                rows_accepted=value["rows_accepted"],
                rows_refused=value["rows_refused"],
                report=None if report is None else orjson.dumps(report).decode(),
                started_at=value["started_at"],
            )
        )
    return sorted(rows, key=lambda row: row.started_at)


async def ledger(gut: GatewayUnderTest) -> list[LedgerRow]:
    return await ledger_rows(gut.gateway.engine)


async def message_count(gut: GatewayUnderTest, interface: str = "shipment") -> int:
    async with gut.gateway.engine.connect() as conn:
        query = select(func.count()).select_from(messages).where(messages.c.interface == interface)
        return int(await conn.scalar(query) or 0)


@contextmanager
def json_log() -> Iterator[None]:
    """The gateway's log as JSON lines on the (captured) stderr while the block runs:
    read it with ``capsys.readouterr()`` inside the block."""
    configure_logging("json", "INFO")
    handlers = logging.getLogger().handlers
    [ours] = [h for h in handlers if isinstance(h.formatter, ProcessorFormatter)]
    try:
        yield
    finally:
        assert isinstance(ours, logging.StreamHandler)
        ours.stream = sys.__stderr__  # the captured stream is closed after the test
