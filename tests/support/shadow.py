"""Parallel runs under test: a configuration with a live mapping and a candidate that
differs in exactly one field (and in two masked ones), orders that make it differ or not,
and waiting on the gateway's own numbers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from tests.support.gateway import ERP_KEY, GatewayUnderTest, write_config

#: The live mapping. ``version`` and ``items[*].note`` are volatile in the candidate
#: (masked); ``priority`` is the one real difference, for urgent orders only.
LIVE = """
source: erp
target: mes
fields:
  workOrderNo: {path: OrderNo, required: true}
  priority: {path: OrderType, code_table: priority}
  version: {const: 1}
  items:
    each: Lines
    default: []
    fields:
      lineNo: {path: LineNo, type: int}
      note: {const: live}
code_tables:
  priority: {values: {"01": NORMAL, "02": URGENT}, unknown: error}
"""

CANDIDATE = (
    LIVE.replace('"02": URGENT', '"02": RUSH')
    .replace("{const: 1}", "{const: 2}")
    .replace("{const: live}", "{const: candidate}")
)

#: A candidate that fails on every order (they carry no CustCode).
FAILING = LIVE.replace(
    "  version: {const: 1}\n",
    "  version: {const: 1}\n  customer: {path: CustCode, required: true}\n",
)

IGNORE = '[version, "items[*].note"]'

#: The new system's mapping: the same document under its own names.
CLOUD = LIVE.replace("target: mes", "target: mescloud").replace("workOrderNo:", "orderNo:")

SYSTEMS = f"""
systems:
  erp: {{api_key: "{ERP_KEY}"}}
  mes: {{}}
  mescloud: {{}}
"""


def write_mappings(folder: Path, **mappings: str) -> None:
    (folder / "mappings").mkdir(parents=True, exist_ok=True)
    for name, text in mappings.items():
        (folder / "mappings" / f"{name.replace('_', '-')}.yaml").write_text(text)


def candidate_config(folder: Path, url: str, shadow: str, extra: str = "") -> Path:
    """``sales-order`` to ``mes`` through ``order-to-mes``, with ``shadow`` (YAML, one line),
    and ``extra`` targets."""
    interfaces = f"""
interfaces:
  sales-order:
    source: erp
    message_type: sales_order
    key: OrderNo
    retry: {{schedule: [0.1s], max_attempts: 2, jitter: 0}}
    targets:
      mes:
        mapping: order-to-mes
        connector: {{kind: rest, url: "{url}/api/work-orders", timeout: {{connect: 1s, total: 3s}}}}
        shadow: {shadow}
{extra}"""
    write_config(folder, interfaces, SYSTEMS)
    write_mappings(
        folder,
        order_to_mes=LIVE,
        order_to_mes_v2=CANDIDATE,
        order_to_mes_bad=FAILING,
        order_to_mescloud=CLOUD,
    )
    return folder


def cloud_target(url: str, send: str | None = None) -> str:
    """``mescloud``: the new system standing for ``mes``'s replacement."""
    test = "" if send is None else f', send: {{kind: rest, url: "{send}"}}'
    return f"""      mescloud:
        mapping: order-to-mescloud
        connector: {{kind: rest, url: "{url}/cloud/orders", timeout: {{connect: 1s, total: 3s}}}}
        shadow: {{of: mes, ignore: {IGNORE}{test}}}
"""


def replacement_config(folder: Path, url: str, send: str | None = None) -> Path:
    """``mes`` live (no candidate) and ``mescloud`` in shadow of it."""
    return candidate_config(folder, url, "null", cloud_target(url, send))


def order(number: int, urgent: bool) -> dict[str, Any]:
    return {
        "OrderNo": f"SO-{number:04d}",
        "OrderType": "02" if urgent else "01",
        "Lines": [{"LineNo": 10}, {"LineNo": 20}],
    }


async def send_all(gut: GatewayUnderTest, orders: list[dict[str, Any]]) -> list[str]:
    ids = []
    for body in orders:
        answer = await gut.send("sales_order", body)
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])
    return ids


async def shadow_entry(gut: GatewayUnderTest, target: str = "mes") -> dict[str, Any]:
    answer = await gut.admin("GET", "/v1/shadow")
    assert answer.status_code == 200, answer.text
    found = [s for s in answer.json()["shadows"] if s["target"] == target]
    assert len(found) == 1, answer.json()
    return dict(found[0])


async def wait_compared(
    gut: GatewayUnderTest, count: int, target: str = "mes", timeout: float = 30.0
) -> dict[str, Any]:
    """The shadow's entry once today's comparisons reached ``count``."""
    deadline = time.monotonic() + timeout
    while True:
        entry = await shadow_entry(gut, target)
        if entry["today"]["compared"] >= count:
            return entry
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {count} comparisons: {entry}")
        await asyncio.sleep(0.05)
