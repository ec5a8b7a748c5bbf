"""What flow control costs per delivery: nothing for a system without ``flow:``, a couple
of short statements for one with it (counted on the real engine)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event

from tests.support.flow import send_orders, systems_with_flow, wait_orders
from tests.support.gateway import rest_interface, write_config
from tests.support.target import TargetServer


def shown(statement: str) -> bool:
    """A read for the metrics gauges (every 15 s, whatever the traffic), not a delivery's."""
    return statement.startswith("SELECT flow_state.system") or " IN (" in statement


def count_flow_statements(gut: Any) -> list[str]:
    """Every statement a delivery sends that touches a flow-control table, from now on."""
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "flow_" in statement and not shown(statement):
            seen.append(statement)

    event.listen(gut.gateway.engine.sync_engine, "before_cursor_execute", before)
    return seen


async def delivered_with(make_gateway, target: TargetServer, tmp_path: Path, systems: str | None):
    interface = rest_interface(target.url)
    config = write_config(tmp_path / "cfg", interface, *([systems] if systems else []))
    gut = await make_gateway(config, config_watch=False)
    seen = count_flow_statements(gut)
    await send_orders(gut.url, [f"C-{n}" for n in range(10)], parallel=1)  # none waits
    await wait_orders(target, 10, timeout=30)
    return seen


async def test_a_system_without_flow_costs_no_statement(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    assert await delivered_with(make_gateway, target, tmp_path, None) == []


async def test_a_system_with_flow_costs_a_few_statements_per_delivery(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    systems = systems_with_flow("max_in_flight: 50\nrate: 1000/s\nbreaker: {}")
    seen = await delivered_with(make_gateway, target, tmp_path, systems)
    per_delivery = len(seen) / 10
    kinds = Counter(" ".join(statement.split()[:3]) for statement in seen)
    print(f"\nCOST with cap, rate and breaker: {per_delivery:g} statements per delivery {kinds}")
    # before: forget a deferral, read the breaker, take a slot, spend the rate; after: the
    # probe's success or the failure count, release (7); the system's rows once; now and
    # then a call that found the rate's next turns taken is deferred once (about 6 more)
    assert per_delivery <= 8.5, kinds
