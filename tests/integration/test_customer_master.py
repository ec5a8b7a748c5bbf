"""The demo's ``customer-master`` interface end to end, in both gateway modes: the ERP's
customer list pulled by ``rest-poll`` into the customer cross-reference (``xref``).

A real HTTP stand-in ERP serves the scenario's two pages and records every request;
the shipped demo configuration runs unchanged with ERP_URL pointing at it. What must
hold: pages followed; ``expected/xref_customer_after_pull.csv`` afterwards; each change
audited with the pull as actor; the watermark kept across a restart (the next request's
``updated_since``); a 5xx or garbage answer leaves the watermark and the cross-reference
as they were and shows in the health report; a sales order for the new customer reaches
MES as expected with no operator step; and with two gateways on one PostgreSQL each
scheduled pull runs once, not twice.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from esb.config.loader import load_config
from esb.connectors import load_registry
from esb.live import routes
from esb.settings import Settings, demo_config_dir
from esb.store.source_state import SourceStateStore
from esb.store.tables import audit_log
from esb.testing import ListApiServer, Pulled
from esb.testing.served import free_port
from tests.support.drops import eventually
from tests.support.gateway import ADMIN_KEY, GatewayUnderTest, delete_broker_objects
from tests.support.process import GatewayProcess
from tests.support.target import TargetServer

VECTORS = Path(__file__).resolve().parents[1] / "data" / "scenario"
ERP_KEY = "erp-demo-test-key"
WATERMARK = "2026-11-26T09:15:00+08:00"
JOB = "customer-master/rest-poll/poll"


def vector(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def rows(text: str) -> list[dict[str, str]]:
    """A CSV's rows by their first column (entities are created in the order their
    deliveries ran, which production's parallel workers do not fix)."""
    found = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    return sorted(found, key=lambda row: next(iter(row.values())))


EXPECTED = rows((VECTORS / "expected/xref_customer_after_pull.csv").read_text(encoding="utf-8"))
SEED = rows((VECTORS / "masterdata/customer.csv").read_text(encoding="utf-8"))


@pytest.fixture
async def erp() -> AsyncIterator[ListApiServer]:
    pages = {"1": vector("inputs/erp_customers_page1.json")}
    pages["2"] = vector("inputs/erp_customers_page2.json")
    server = await ListApiServer(pages=pages).start()
    yield server
    await server.stop()


def demo_env(
    erp: ListApiServer, mes: TargetServer, tmp_path: Path, interval: str
) -> dict[str, str]:
    return {
        "ERP_API_KEY": ERP_KEY,
        "ERP_URL": erp.url,
        "ERP_PULL_INTERVAL": interval,
        "MES_URL": mes.url,
        "WMS_URL": mes.url,  # not called by these tests
        "DROP_DIR": str(tmp_path / "drop"),
    }


async def customers(gut: GatewayUnderTest) -> list[dict[str, str]]:
    response = await gut.admin("GET", "/v1/xref/customer", params={"format": "csv"})
    assert response.status_code == 200, response.text
    return rows(response.text)


async def watermark(gut: GatewayUnderTest) -> Any:
    return await SourceStateStore(gut.gateway.engine, "customer-master", "rest-poll").get(
        "watermark"
    )


async def schedule(gut: GatewayUnderTest) -> dict[str, Any] | None:
    report = (await gut.admin("GET", "/v1/report")).json()
    return next((s for s in report["schedules"] if s["job"] == JOB), None)


def page_ones_at(erp: ListApiServer) -> list[Pulled]:
    return [p for p in erp.pulls() if p.query.get("page") == "1"]


def page_ones(erp: ListApiServer) -> list[dict[str, str]]:
    return [p.query for p in erp.pulls() if p.query.get("page") == "1"]


async def test_customers_pulled_into_the_cross_reference_and_a_new_customer_order_reaches_mes(
    make_gateway: Any, erp: ListApiServer, target: TargetServer, tmp_path: Path
) -> None:
    env = demo_env(erp, target, tmp_path, "1s")
    gut = await make_gateway(demo_config_dir(), env=env, config_watch=False)

    await eventually(lambda: len(erp.pulls()) >= 2, what="the first pull's two pages")
    first = erp.pulls()[:2]
    assert [p.query for p in first] == [{"page": "1"}, {"page": "2"}]  # no updated_since

    async def pulled_in() -> bool:
        return await customers(gut) == EXPECTED

    await eventually(pulled_in, what="xref_customer_after_pull.csv")
    assert await watermark(gut) == WATERMARK

    async with gut.gateway.engine.connect() as conn:
        audited = (
            await conn.execute(
                select(audit_log.c.action, audit_log.c.before, audit_log.c.after)
                .where(audit_log.c.actor == "sync:customer-master")
                .order_by(audit_log.c.id)
            )
        ).all()
    # C0001 pulled unchanged: no change, no entry; C0003 and C0004 created
    entries = [(a, orjson.loads(b)["entity"], orjson.loads(c)["entity"]) for a, b, c in audited]
    assert sorted(entries, key=lambda e: e[2]["erp"]) == [
        ("xref.put", None, {"erp": "C0003", "mes": "900789", "wms": "CUST-03"}),
        ("xref.put", None, {"erp": "C0004", "mes": "900790"}),
    ]

    response = await gut.send("sales_order", vector("inputs/sales_order_new_customer.json"),
                              key=ERP_KEY)  # fmt: skip
    assert response.status_code == 202, response.text
    await gut.wait_status(response.json()["id"], "delivered")
    assert target.bodies("/api/work-orders") == [
        vector("expected/mes_work_order_new_customer.json")
    ]

    # the next pulls ask from the watermark; what they find again is no new message
    await eventually(lambda: len(page_ones(erp)) >= 2, what="a second pull")
    assert page_ones(erp)[1] == {"updated_since": WATERMARK, "page": "1"}
    listed = (await gut.admin("GET", "/v1/messages", params={"since": "1h", "limit": 100})).json()
    assert sum(m["message_type"] == "customer" for m in listed["messages"]) == 3

    # the watermark is kept across a restart: the first request after it asks from it
    await gut.stop()
    before = len(erp.pulls())
    await gut.start()
    await eventually(lambda: len(erp.pulls()) > before, what="a pull after the restart")
    assert erp.pulls()[before].query == {"updated_since": WATERMARK, "page": "1"}
    assert await customers(gut) == EXPECTED


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [(503, b'{"error": "maintenance"}', "HTTP 503"), (200, b"<html>login</html>", "not JSON")],
)
async def test_a_failing_or_garbage_answer_leaves_watermark_and_xref_and_is_reported(
    make_gateway: Any,
    erp: ListApiServer,
    target: TargetServer,
    tmp_path: Path,
    status: int,
    body: bytes,
    error: str,
) -> None:
    # page 1 is fine, page 2 is not: nothing of page 1 may be taken in either
    erp.answer = lambda pulled: (status, body) if pulled.query.get("page") == "2" else None
    gut = await make_gateway(
        demo_config_dir(), env=demo_env(erp, target, tmp_path, "0.5s"), config_watch=False
    )

    async def failed() -> dict[str, Any] | None:
        found = await schedule(gut)
        return found if found and found["failures"] >= 2 else None

    record = await eventually(failed, what="two failed pulls in the health report")
    assert error in record["error"]
    assert "page 2 of" in record["error"]
    assert await watermark(gut) is None
    assert await customers(gut) == SEED
    listed = (await gut.admin("GET", "/v1/messages", params={"since": "1h"})).json()
    assert listed["messages"] == []
    assert all("updated_since" not in q for q in page_ones(erp))

    erp.answer = None  # the ERP is back: the next pull takes everything in

    async def recovered() -> bool:
        return await customers(gut) == EXPECTED

    await eventually(recovered, what="the cross-reference after the ERP recovered")
    assert await watermark(gut) == WATERMARK
    await eventually(lambda: schedule(gut), what="report")
    ok = await eventually(lambda: _last_ok(gut), what="a successful run in the health report")
    assert ok["error"] is None


async def _last_ok(gut: GatewayUnderTest) -> dict[str, Any] | None:
    found = await schedule(gut)
    return found if found and found["error"] is None else None


async def test_two_gateway_processes_on_one_postgres_pull_once_per_interval(
    pg_clean: str, rabbit_url: str, erp: ListApiServer, target: TargetServer, tmp_path: Path
) -> None:
    """Two ``esb serve`` processes on one PostgreSQL: each tick's pull runs in one of them
    (counted at the stand-in); SIGKILL the runner and the other takes the schedule over."""
    interval = 0.5
    prefix = f"esbtest-pull-{uuid.uuid4().hex[:8]}"
    env = {
        **demo_env(erp, target, tmp_path, f"{interval}s"),
        "ESB_DATABASE_URL": pg_clean,
        "ESB_BROKER_URL": rabbit_url,
        "ESB_BROKER_PREFIX": prefix,
        "ESB_ADMIN_KEY": ADMIN_KEY,
        "ESB_CONFIG": str(demo_config_dir()),
        "ESB_DATA_DIR": str(tmp_path / "var"),
    }
    gateways = [GatewayProcess(env, free_port(), tmp_path / f"gw{n}.log") for n in (1, 2)]
    engine = create_async_engine(pg_clean.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        for gateway in gateways:
            gateway.start()
        for gateway in gateways:
            await gateway.wait_ready()
        await eventually(lambda: page_ones(erp), what="the first pull")
        counted_from = time.monotonic()
        await asyncio.sleep(4.0)
        # only the pulls inside the window: the first gateway pulls while the second starts
        pulls = [p for p in page_ones_at(erp) if p.at >= counted_from]
        once_each_tick(pulls, interval, time.monotonic() - counted_from)

        # SIGKILL whichever holds the schedule: the other takes over, still once a tick
        state = SourceStateStore(engine, "customer-master", "rest-poll")
        holder = await state.holder()
        assert holder is not None
        [runner] = [g for g in gateways if g.proc and f":{g.proc.pid}:" in holder]
        runner.kill()
        killed = time.monotonic()
        await eventually(
            lambda: len([p for p in page_ones_at(erp) if p.at > killed]) >= 4,
            timeout=30,
            what="the other gateway's pulls",
        )
        survivor = next(g for g in gateways if g is not runner)
        assert survivor.proc is not None
        assert f":{survivor.proc.pid}:" in (await state.holder() or "")
        # a run the kill cut short is made up at once; from then on, once a tick
        later = [p for p in page_ones_at(erp) if p.at > killed][1:]
        once_each_tick(later, interval, None)
        assert all(p.query.get("updated_since") == WATERMARK for p in later)
    finally:
        for gateway in gateways:
            gateway.stop()
        await engine.dispose()
        config = load_config(demo_config_dir(), load_registry(), env)
        settings = Settings(database_url=pg_clean, broker_url=rabbit_url, broker_prefix=prefix,
                            admin_key=ADMIN_KEY)  # fmt: skip
        await delete_broker_objects(settings, routes(config))


def once_each_tick(pulls: list[Pulled], interval: float, elapsed: float | None) -> None:
    """No two pulls closer than most of an interval (two runners would pull in the same
    tick) and, over ``elapsed`` seconds, about one a tick (not two)."""
    gaps = [b.at - a.at for a, b in itertools.pairwise(pulls)]
    assert gaps, "fewer than two pulls"
    assert min(gaps) > interval * 0.6, f"two pulls {min(gaps):.3f}s apart: both gateways pulled"
    if elapsed is not None:
        assert len(pulls) <= elapsed / interval + 2, f"{len(pulls)} pulls in {elapsed:.1f}s"
        assert len(pulls) >= elapsed / interval / 2, f"{len(pulls)} pulls in {elapsed:.1f}s"
