"""SIGKILL a gateway in the middle of a big dropped file, start it again, then count.

The file has 20,000 rows. After the restart the gateway resumes the file from its
ledger checkpoint; the database must end with exactly one message per row (no row
lost, none doubled), and the target must get every row routed to it (the shipped
ones, one in ten, which keeps the test fast: delivery is proven elsewhere). A row
delivered twice is allowed by at-least-once only with the same Idempotency-Key.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from esb.settings import Settings
from esb.store.tables import messages
from tests.integration.test_faults import FAST_RETRY, env_for
from tests.support.drops import drop, eventually, ledger_rows, names, shipment_csv
from tests.support.gateway import write_config
from tests.support.process import GatewayProcess
from tests.support.serving import free_port
from tests.support.target import TargetServer

pytestmark = pytest.mark.fault
ROWS = 20_000
SHIPPED_EVERY = 10
ROUTED = ROWS // SHIPPED_EVERY

INTERFACE = """
interfaces:
  shipment:
    source: wms
    message_type: shipment
    key: order_no
    retry: {{schedule: {retry}, jitter: 0}}
    inbound:
      - {{kind: file-drop, folder: "{folder}", format: csv, encoding: gb18030,
         settle: 0.2s, poll_interval: 0.5s, batch: 200}}
    targets:
      erp:
        when: status == 'S'
        connector: {{kind: rest, url: "{url}/api/order-status",
                     timeout: {{connect: 1s, total: 3s}}}}
"""


async def counts(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        of_shipments = messages.c.interface == "shipment"
        total = await conn.scalar(select(func.count()).where(of_shipments))
        keys = await conn.scalar(
            select(func.count(distinct(messages.c.idempotency_key))).where(of_shipments)
        )
        orders = await conn.scalar(
            select(func.count(distinct(messages.c.business_key))).where(of_shipments)
        )
    files = await ledger_rows(engine)
    return {"messages": total, "keys": keys, "orders": orders, "files": files}


async def test_sigkill_mid_file_then_restart_gives_one_message_per_row(
    mode_settings: dict[str, Any], mode: str, target: TargetServer, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    interface = INTERFACE.format(retry=FAST_RETRY, folder=folder, url=target.url)
    config = write_config(tmp_path / "cfg", interface)
    gateway = GatewayProcess(env_for(mode_settings, config), free_port(), tmp_path / "gw.log")
    engine = create_async_engine(Settings(config=config, **mode_settings).effective_database_url)
    gateway.start()
    try:
        await gateway.wait_ready()
        drop(folder, "big.csv", shipment_csv("KILL", ROWS, SHIPPED_EVERY))
        at_kill = await eventually(lambda: _mid_file(engine), timeout=60, what="rows going in")
        gateway.kill()
        gateway.start()
        await gateway.wait_ready()
        await eventually(lambda: names(folder / "archive") == ["big.csv"], timeout=120)
        await eventually(lambda: _all_received(target), timeout=120, what="routed rows delivered")
        await asyncio.sleep(0.5)  # late duplicates, if any, arrive before counting
        final = await counts(engine)
    finally:
        gateway.stop()
        await engine.dispose()

    copies = Counter(body["order_no"] for body in target.bodies())
    keys_by_order: dict[str, set[str]] = defaultdict(set)
    for received in target.received:
        keys_by_order[received.json()["order_no"]].add(received.headers["idempotency-key"])
    [ledger_row] = final["files"]
    summary = {
        "rows": ROWS,
        "routed_to_target": ROUTED,
        "messages_at_kill": at_kill,
        "messages": final["messages"],
        "distinct_row_keys": final["keys"],
        "delivered_unique": len(copies),
        "delivered_duplicates": sum(n - 1 for n in copies.values()),
        "ledger": (ledger_row.status, ledger_row.rows_accepted, ledger_row.rows_refused),
        "resubmitted_after_restart": orjson.loads(ledger_row.report)["repeated"],
    }
    print(f"\nFAULT file drop SIGKILL mid-file ({mode}): {summary}")  # for the closing note
    assert 0 < at_kill < ROWS  # the kill really hit the file half-way
    assert summary["resubmitted_after_restart"] < at_kill  # resumed from a checkpoint
    assert final["messages"] == final["keys"] == final["orders"] == ROWS
    assert summary["ledger"] == ("done", ROWS, 0)
    assert len(copies) == ROUTED
    assert all(len(keys) == 1 for keys in keys_by_order.values())


async def _mid_file(engine: AsyncEngine) -> int:
    """The number of messages once the file is under way (0 before): a quarter, so the kill
    lands before the end now that pages of rows commit together."""
    found = await counts(engine)
    return found["messages"] if found["messages"] >= ROWS // 4 else 0


def _all_received(target: TargetServer) -> bool:
    if len(target.received) < ROUTED:  # cheap check first: bodies are parsed only at the end
        return False
    return len({body["order_no"] for body in target.bodies()}) >= ROUTED
