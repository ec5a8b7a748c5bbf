"""Two gateways on one PostgreSQL share a drop folder: the one holding the file drop's
lease takes the files in, the other waits, and takes over when the first one stops."""

from __future__ import annotations

from pathlib import Path

import pytest

from esb.store.source_state import SourceStateStore
from tests.support.drops import drop, eventually, ledger, message_count, names, shipment_csv
from tests.support.fixtures import GatewayFactory
from tests.support.gateway import write_config
from tests.support.target import TargetServer

INTERFACE = """
interfaces:
  shipment:
    source: wms
    message_type: shipment
    key: order_no
    inbound:
      - {{kind: file-drop, folder: "{folder}", encoding: gb18030, settle: 0.2s,
         poll_interval: 0.3s}}
    targets:
      erp:
        connector: {{kind: rest, url: "{url}/api/order-status"}}
"""


@pytest.mark.parametrize("mode", ["production"], indirect=True)
async def test_one_gateway_runs_the_folder_and_another_takes_over_when_it_stops(
    make_gateway: GatewayFactory, target: TargetServer, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    config = write_config(tmp_path / "cfg", INTERFACE.format(folder=folder, url=target.url))
    first = await make_gateway(config, config_watch=False)
    second = await make_gateway(config, config_watch=False)
    owners = [gut.gateway.inbound.owner for gut in (first, second)]
    lease = SourceStateStore(first.gateway.engine, "shipment", "file-drop", owner="test")
    holder = await eventually(lease.holder, what="a gateway holding the folder's lease")
    assert holder in owners
    running, waiting = (first, second) if holder == owners[0] else (second, first)

    drop(folder, "a.csv", shipment_csv("A", 20))
    await eventually(lambda: names(folder / "archive") == ["a.csv"], what="a.csv taken in")
    await running.stop()  # released: the other gateway takes the folder over
    taken = await eventually(
        lambda: _held_by(lease, waiting.gateway.inbound.owner), timeout=10, what="taken over"
    )
    assert taken
    drop(folder, "b.csv", shipment_csv("B", 30))
    await eventually(lambda: names(folder / "archive") == ["a.csv", "b.csv"], what="b.csv")
    await target.wait_received(50)
    assert await message_count(waiting) == 50
    assert [(row.name, row.rows_accepted) for row in await ledger(waiting)] == [
        ("a.csv", 20),
        ("b.csv", 30),
    ]


async def _held_by(lease: SourceStateStore, owner: str) -> bool:
    return await lease.holder() == owner
