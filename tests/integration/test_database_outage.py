"""When the database is unreachable the answer is 503, never 202; afterwards nothing is lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.support.gateway import rest_interface, write_config
from tests.support.target import TargetServer
from tests.support.tcpproxy import TcpProxy


@pytest.mark.parametrize("mode", ["production"], indirect=True)
async def test_database_cut_gives_503_and_recovers(
    make_gateway, target: TargetServer, tmp_path: Path, pg_clean: str
) -> None:
    proxy = await TcpProxy("127.0.0.1", 5432).start()
    via_proxy = pg_clean.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    gut = await make_gateway(
        write_config(tmp_path / "cfg", rest_interface(target.url)),
        database_url=via_proxy,
        db_timeout=1.0,
    )
    before = await gut.send("sales_order", {"OrderNo": "SO-DB-1"})
    assert before.status_code == 202

    await proxy.cut()
    during = [await gut.send("sales_order", {"OrderNo": f"SO-DB-CUT-{i}"}) for i in range(3)]
    assert [r.status_code for r in during] == [503, 503, 503]
    assert during[0].json()["error"]["code"] == "store_unavailable"
    assert during[0].headers["Retry-After"] == "1"
    ready = await gut.client.get(f"{gut.url}/readyz")
    assert ready.status_code == 503

    await proxy.restore()
    after = None
    for _ in range(50):  # the pool notices the outage and reconnects
        after = await gut.send("sales_order", {"OrderNo": "SO-DB-2"})
        if after.status_code == 202:
            break
        await asyncio.sleep(0.1)
    assert after is not None
    assert after.status_code == 202
    for response in (before, after):
        await gut.wait_status(response.json()["id"], "delivered", timeout=30)
    delivered = {b["OrderNo"] for b in target.bodies()}
    assert delivered == {"SO-DB-1", "SO-DB-2"}  # the refused ones were never accepted
    await gut.stop()  # while the database is reachable: its last outcomes get written
    await proxy.cut()
