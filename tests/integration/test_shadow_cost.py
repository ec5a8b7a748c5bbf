"""What the parallel run costs the database: nothing at all for a gateway with no shadow
(no statement per delivery, no look for promotions), and at most three short statements
per comparison with one (fewer when comparisons share a commit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from tests.support.shadow import IGNORE, candidate_config, order, send_all, wait_compared
from tests.support.target import TargetServer


def shadow_statements(gut: Any) -> list[str]:
    """Every statement from now on that touches a parallel run's table."""
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "shadow_" in statement:
            seen.append(statement)

    event.listen(gut.gateway.engine.sync_engine, "before_cursor_execute", before)
    return seen


async def test_a_gateway_without_a_shadow_pays_nothing(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    config = candidate_config(tmp_path / "cfg", target.url, "null")
    gut = await make_gateway(config, config_watch=False, shadow_refresh=0.05)
    seen = shadow_statements(gut)
    for message_id in await send_all(gut, [order(n, n % 2 == 0) for n in range(10)]):
        await gut.wait_status(message_id, "delivered")
    assert (await gut.admin("GET", "/v1/report")).json()["shadows"] == []
    assert seen == []  # and the watcher, looking every 50 ms, never asked either


async def test_a_shadow_costs_at_most_three_statements_per_comparison(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    shadow = f"{{mapping: order-to-mes-v2, ignore: {IGNORE}}}"
    config = candidate_config(tmp_path / "cfg", target.url, shadow)
    gut = await make_gateway(config, config_watch=False, shadow_refresh=3600)
    seen = shadow_statements(gut)
    for message_id in await send_all(gut, [order(n, n % 2 == 0) for n in range(10)]):
        await gut.wait_status(message_id, "delivered")
    writes = await wait_for_writes(gut, seen, 10)
    print(f"\nSHADOW COST: {len(writes) / 10:g} statements per comparison")
    assert len(writes) <= 30, writes


async def wait_for_writes(gut: Any, seen: list[str], compared: int) -> list[str]:
    """The writes once ``compared`` comparisons are in (reading them is not the cost)."""
    await wait_compared(gut, compared)
    return [s for s in seen if not s.lstrip().upper().startswith("SELECT")]
