"""Records/s of the demo ERP -> MES mapping through the compiled engine vs hand-written Python.

The hand-written function is the limit: what a careful engineer would write for
this one mapping, doing the same work (xref lookups that fail on a miss, code
tables that fail on an unknown code, a real-date check, quantity as a number).
Both run in the same process on the same orders, with master data served from
memory (StaticXref), and their outputs are checked to be equal before timing.

    .venv/bin/python bench/mapping_bench.py [--repeat 7] [--lines 2 200] [--peer]

``--peer`` adds the peer benchmark's sales order (tests/data/peers/order.json: 22 header
fields, 10 lines, dates, code tables, one computed item number a line) mapped by
bench/peer-config's mapping against the peers' own reference function
(tests/data/peers/sales_order_map.py), the work the gateway's worker does per delivery
in the peer run. ``--fresh-dates`` maps it again with every order's dates a day after the
one before's (its timestamp also a second later): the converters keep each date's
result, and this shows the mapping when the header dates are new in every order (the
lines' dates still overlap with the next order's, as real orders' do).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
import time
import timeit
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from esb.errors import MappingError, XrefMissing
from esb.mapping import MappingContext, StaticXref, XrefLookup, load_mappings
from esb.mapping.testing import compare

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-factory"
MAPPING = "sales-order-to-mes"

PRIORITY = {"01": "NORMAL", "02": "URGENT", "03": "SAMPLE"}
UOM = {"PCS": "EA", "KG": "KGM", "SET": "SET"}
MATERIALS = (("MAT-1001", "120", "PCS"), ("MAT-2002", "2.5", "KG"), ("MAT-3003", "5", "SET"))


def _xref(xref: XrefLookup, domain: str, code: str) -> str:
    found = xref.lookup(domain, "erp", "mes", code)
    if found is None:
        raise XrefMissing(domain, "erp", "mes", code)
    return found


def _code(table: dict[str, str], code: str) -> str:
    try:
        return table[code]
    except KeyError:
        raise MappingError(f"unknown code {code!r}") from None


def _due(text: str) -> str:
    if len(text) != 8 or not text.isdigit():
        raise MappingError(f"{text!r} is not a date written yyyyMMdd")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
    except ValueError:
        raise MappingError(f"{text!r} is not a real date") from None


def _quantity(text: str) -> int | float:
    return int(text) if text.isdigit() else float(text)


def hand_written(order: dict[str, Any], xref: XrefLookup) -> dict[str, Any]:
    """ERP sales order -> MES work order, written by hand for this mapping only."""
    return {
        "workOrderNo": order["OrderNo"],
        "customerId": _xref(xref, "customer", order["CustCode"]),
        "priority": _code(PRIORITY, order["OrderType"]),
        "dueDate": _due(order["DeliveryDate"]),
        "remark": order.get("Remark", ""),
        "items": [
            {
                "lineNo": int(line["LineNo"]),
                "materialId": _xref(xref, "material", line["MaterialCode"]),
                "quantity": _quantity(line["Qty"]),
                "uom": _code(UOM, line["Unit"]),
            }
            for line in order["Lines"]
        ],
        "source": "erp",
    }


def order_with(lines: int) -> dict[str, Any]:
    return {
        "OrderNo": "SO-20261124-0001",
        "OrderType": "01",
        "OrderDate": "2026-11-24",
        "DeliveryDate": "20261205",
        "CustCode": "C0001",
        "Remark": "常规订单",
        "Lines": [
            {"LineNo": 10 * (i + 1), "MaterialCode": m, "Qty": q, "Unit": u, "UnitPrice": "12.50"}
            for i, (m, q, u) in ((i, MATERIALS[i % len(MATERIALS)]) for i in range(lines))
        ],
    }


def _best(run: Callable[[], object], number: int, best: float) -> float:
    started = time.process_time()
    for _ in range(number):
        run()
    return min(best, (time.process_time() - started) / number)


def measure(lines: int, repeat: int) -> tuple[float, float]:
    """Records/s of engine and hand-written: best of ``repeat`` interleaved rounds of CPU time.

    CPU time and interleaving keep other work on the machine from favouring one side.
    """
    mapping = load_mappings(DEMO, os.environ).get(MAPPING)
    xref = StaticXref.from_masterdata(DEMO / "masterdata")
    ctx = MappingContext(xref)
    order = order_with(lines)
    differences = compare(hand_written(order, xref), mapping(order, ctx))
    if differences:
        sys.exit(f"engine and hand-written disagree: {differences[:3]}")
    engine_run, hand_run = (lambda: mapping(order, ctx)), (lambda: hand_written(order, xref))
    number, _ = timeit.Timer(engine_run).autorange()  # about 0.2 s per round
    engine = hand = float("inf")
    for _ in range(repeat):
        engine = _best(engine_run, number, engine)
        hand = _best(hand_run, number, hand)
    return 1 / engine, 1 / hand


def shifted(order: dict[str, Any], days: int) -> dict[str, Any]:
    """The peers' order with each of its dates ``days`` later (its timestamp also by seconds)."""

    def later(found: re.Match[str]) -> str:
        if found.group(2) is None:
            return f'"{date.fromisoformat(found.group(1)) + timedelta(days=days)}"'
        moment = datetime.fromisoformat(found.group(1) + found.group(2))
        return f'"{(moment + timedelta(days=days, seconds=days)).isoformat()}Z"'

    text = re.sub(r'"(\d{4}-\d\d-\d\d)(T[^"Z]+)?Z?"', later, json.dumps(order))
    shifted_order: dict[str, Any] = json.loads(text)
    return shifted_order


def measure_peer(repeat: int, fresh_dates: bool = False) -> tuple[float, float]:
    """The peers' order: engine vs the peers' reference function, records/s as above."""
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "tests" / "data" / "peers"))  # a script, not a package
    from sales_order_map import map_order

    mapping = load_mappings(root / "bench" / "peer-config", os.environ).get("peer-sales-order")
    order = json.loads((root / "tests" / "data" / "peers" / "order.json").read_text())
    ctx = MappingContext(StaticXref({}))
    orders = [shifted(order, n) for n in range(20_000)] if fresh_dates else [order]
    for one in (orders[0], orders[-1]):
        differences = compare(map_order(one), mapping(one, ctx))
        if differences:
            sys.exit(f"engine and the peers' reference disagree: {differences[:3]}")
    engine_orders, hand_orders = itertools.cycle(orders), itertools.cycle(orders)

    def engine_run() -> object:
        return mapping(next(engine_orders), ctx)

    def hand_run() -> object:
        return map_order(next(hand_orders))

    number, _ = timeit.Timer(engine_run).autorange()
    engine = hand = float("inf")
    for _ in range(repeat):
        engine = _best(engine_run, number, engine)
        hand = _best(hand_run, number, hand)
    return 1 / engine, 1 / hand


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="rounds per case; best is kept")
    parser.add_argument("--lines", type=int, nargs="+", default=[2, 200], help="lines per order")
    parser.add_argument("--peer", action="store_true", help="also the peer benchmark's order")
    parser.add_argument(
        "--fresh-dates",
        action="store_true",
        help="with --peer: also with each order's dates a day after the last's",
    )
    args = parser.parse_args()
    print(f"mapping `{MAPPING}` (examples/demo-factory), Python {sys.version.split()[0]}\n")
    print("| lines | engine (records/s) | hand-written (records/s) | engine / hand-written |")
    print("|---:|---:|---:|---:|")
    for lines in args.lines:
        engine, hand = measure(lines, args.repeat)
        print(f"| {lines} | {engine:,.0f} | {hand:,.0f} | {engine / hand:.0%} |")
    if args.peer:
        engine, hand = measure_peer(args.repeat)
        print(f"| peers' order (10) | {engine:,.0f} | {hand:,.0f} | {engine / hand:.0%} |")
    if args.peer and args.fresh_dates:
        engine, hand = measure_peer(args.repeat, fresh_dates=True)
        name = "peers' order, each a day after the last"
        print(f"| {name} | {engine:,.0f} | {hand:,.0f} | {engine / hand:.0%} |")


if __name__ == "__main__":
    main()
