"""Importing master data at scale, in both modes: chunked, announced once when it ends,
idempotent when run again, refused rows reported by number, accepts going on meanwhile."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import select

from esb.store import xref as store
from esb.store.tables import audit_log
from esb.store.xref_import import import_rows
from esb.xref_csv import Row
from esb.xref_pacing import Pace
from tests.integration.test_xref import config_with_masterdata
from tests.support.gateway import GatewayUnderTest
from tests.support.target import TargetServer

DOMAIN = "material"


def tiny_pace(rows: int = 50) -> Pace:
    """Chunks of ``rows`` rows, no pause: many chunks out of a small file."""
    return Pace(target=1.0, pause=0, rows=rows, max_rows=rows)


def materials(start: int, stop: int) -> Iterator[Row]:
    for n in range(start, stop):
        yield n + 2, {"erp": f"K{n:07d}", "mes": f"M{n:07d}", "wms": f"W{n:07d}"}


async def post_csv(gut: GatewayUnderTest, domain: str, text: str) -> httpx.Response:
    return await gut.admin(
        "POST", f"/v1/xref/{domain}/import", content=text.encode(),
        headers={"Content-Type": "text/csv"}, timeout=120,
    )  # fmt: skip


async def imports_audited(gut: GatewayUnderTest, domain: str) -> list[str]:
    async with gut.gateway.engine.connect() as conn:
        rows = await conn.execute(
            select(audit_log.c.after).where(audit_log.c.action == "xref.import")
        )
        return [after for (after,) in rows if f'"domain":"{domain}"' in after]


async def test_a_code_given_up_earlier_in_the_file_is_free_for_a_later_row(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    body = "erp,mes\nC0001,900999\nC0005,900123\n"  # C0001 gives up 900123, C0005 takes it
    answer = await post_csv(gut, "customer", body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "created": 1, "updated": 1, "unchanged": 0, "refused": 0, "errors": []
    }  # fmt: skip
    xref = gut.gateway.xref
    assert xref.lookup("customer", "erp", "mes", "C0005") == "900123"
    assert xref.lookup("customer", "mes", "erp", "900123") == "C0005"
    assert xref.lookup("customer", "erp", "wms", "C0001") == "CUST-01"  # empty cell: kept

    again = await post_csv(gut, "customer", body)  # the same file once more: nothing to do
    assert again.json() == {
        "created": 0, "updated": 0, "unchanged": 2, "refused": 0, "errors": []
    }  # fmt: skip


async def test_each_chunk_sees_what_the_chunks_before_it_wrote(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    rows: list[Row] = [
        (2, {"erp": "C1", "mes": "M1"}),
        (3, {"erp": "C1", "mes": "M2"}),  # frees M1, in a chunk of its own
        (4, {"erp": "C2", "mes": "M1"}),  # takes it: no conflict
        (5, {"erp": "C3", "mes": "M2"}),  # M2 is C1's: a conflict
    ]
    result = await import_rows(
        gut.gateway.engine, "customer", 2, iter(rows), actor="test", pace=tiny_pace(1)
    )
    assert result is not None
    assert (result.created, result.updated, result.refused) == (2, 1, 1)
    assert result.errors == [
        {"row": 5, "message": "mes code 'M2' already names another entity (erp 'C1', mes 'M2')"}
    ]


async def test_a_key_twice_in_one_chunk_ends_as_its_last_row_says(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    body = "erp,mes,wms\nC7,M1,W1\nC7,M2,\nC0001,M1,\nC8,M2,\nC7,M3,W7\n"
    answer = await post_csv(gut, "customer", body)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["created"], result["updated"], result["refused"]) == (1, 3, 1)
    assert result["errors"][0]["row"] == 5  # M2 is C7's until row 6 moves it on
    assert (await gut.admin("GET", "/v1/xref/customer/erp/C7")).json() == {
        "erp": "C7", "mes": "M3", "wms": "W7"
    }  # fmt: skip
    assert (await gut.admin("GET", "/v1/xref/customer/mes/M1")).json()["erp"] == "C0001"


async def test_an_import_is_announced_once_when_it_ends(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    engine, xref = gut.gateway.engine, gut.gateway.xref
    halfway = threading.Event()  # rows are read in a thread: a thread's event holds them

    def held_rows() -> Iterator[Row]:
        yield from materials(0, 200)
        halfway.wait(30)
        yield from materials(200, 400)

    before = await store.version(engine, DOMAIN)
    importing = asyncio.create_task(
        import_rows(engine, DOMAIN, 3, held_rows(), actor="test", pace=tiny_pace())
    )
    try:
        for _ in range(200):  # the first four chunks are committed...
            if await store.find(engine, DOMAIN, "erp", "K0000199") is not None:
                break
            await asyncio.sleep(0.05)
        assert await store.find(engine, DOMAIN, "erp", "K0000199") is not None
        # ... and not announced: no process reloads the domain for them
        assert await store.version(engine, DOMAIN) == before
        assert await xref.refresh() == []
        assert xref.lookup(DOMAIN, "erp", "mes", "K0000000") is None
    finally:
        halfway.set()
    result = await importing
    assert result is not None
    assert (result.created, result.refused) == (400, 0)
    assert await store.version(engine, DOMAIN) == before + 1  # once, for eight chunks
    assert await xref.refresh() == [DOMAIN]
    assert xref.lookup(DOMAIN, "erp", "mes", "K0000399") == "M0000399"
    audited = await imports_audited(gut, DOMAIN)
    assert len(audited) == 2  # the seed's, and this one
    assert '"created":400' in audited[-1]
    assert '"complete":true' in audited[-1]


async def test_an_import_that_stops_keeps_its_chunks_says_so_and_can_be_run_again(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    engine = gut.gateway.engine

    def broken_rows() -> Iterator[Row]:
        yield from materials(0, 120)
        raise OSError("the disk went away")

    before = await store.version(engine, DOMAIN)
    try:
        await import_rows(engine, DOMAIN, 3, broken_rows(), actor="test", pace=tiny_pace())
    except OSError:
        pass
    else:
        raise AssertionError("the import should have stopped")
    assert await store.find(engine, DOMAIN, "erp", "K0000099") is not None  # two chunks
    assert await store.find(engine, DOMAIN, "erp", "K0000100") is None
    assert await store.version(engine, DOMAIN) == before + 1  # announced all the same
    stopped = (await imports_audited(gut, DOMAIN))[-1]
    assert '"created":100' in stopped
    assert '"complete":false' in stopped
    assert "the disk went away" in stopped

    result = await import_rows(engine, DOMAIN, 3, materials(0, 200), actor="test")
    assert result is not None
    assert (result.created, result.unchanged, result.refused) == (100, 100, 0)


async def test_refused_rows_of_a_big_file_are_reported_by_their_number(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    lines = ["erp,mes"]
    for n in range(5000):  # every 10th row wants the MES code of the row before it
        lines.append(f"P{n:05d},M{n - 1 if n % 10 == 9 else n:05d}")
    answer = await post_csv(gut, "product", "\n".join(lines) + "\n")
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["created"], result["refused"]) == (4500, 500)
    assert [e["row"] for e in result["errors"]] == [n + 2 for n in range(9, 5000, 10)]
    assert result["errors"][0]["message"] == (
        "mes code 'M00008' already names another entity (erp 'P00008', mes 'M00008')"
    )


async def test_orders_are_accepted_while_a_big_import_runs(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    text = "erp,mes,wms\n" + "".join(f"B{n:07d},N{n:07d},仓-{n:07d}\n" for n in range(30_000))
    importing = asyncio.create_task(post_csv(gut, "bulk", text))
    statuses: list[int] = []
    while not importing.done():
        answer = await gut.send("sales_order", {"OrderNo": f"SO-{len(statuses):04d}"})
        statuses.append(answer.status_code)
    imported = await importing
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 30_000
    assert len(statuses) >= 3  # orders went through during the import, not after it
    assert set(statuses) == {202}
