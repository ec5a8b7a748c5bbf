"""Master data: seeded from CSV, managed over HTTP and CLI, cached, changes reach every process."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import esb.xref
from esb.settings import Settings
from esb.store import xref as store
from tests.support.gateway import GatewayUnderTest, rest_interface, write_config
from tests.support.target import TargetServer

MASTERDATA = Path(__file__).resolve().parents[1] / "data" / "scenario" / "masterdata"


def config_with_masterdata(folder: Path, target: TargetServer) -> Path:
    write_config(folder, rest_interface(target.url))
    shutil.copytree(MASTERDATA, folder / "masterdata")
    return folder


async def test_seeded_then_managed_over_http(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    assert gut.gateway.xref.lookup("customer", "erp", "mes", "C0001") == "900123"
    assert gut.gateway.xref.lookup("material", "erp", "wms", "MAT-3003") == "SKU3003"

    got = await gut.admin("GET", "/v1/xref/customer/erp/C0002")
    assert got.json() == {"erp": "C0002", "mes": "900456", "wms": "CUST-02"}
    missing = await gut.admin("GET", "/v1/xref/customer/erp/C9999")
    assert missing.status_code == 404

    put = await gut.admin(
        "PUT",
        "/v1/xref/customer/erp/C9999",
        json={"codes": {"mes": "900999"}, "reason": "new customer"},
    )
    assert put.status_code == 200, put.text
    assert put.json() == {"erp": "C9999", "mes": "900999"}
    assert gut.gateway.xref.lookup("customer", "erp", "mes", "C9999") == "900999"

    clash = await gut.admin("PUT", "/v1/xref/customer/erp/C7777", json={"codes": {"mes": "900123"}})
    assert clash.status_code == 409

    gone = await gut.admin("DELETE", "/v1/xref/customer/erp/C9999")
    assert gone.status_code == 204
    assert gut.gateway.xref.lookup("customer", "erp", "mes", "C9999") is None

    csv = await gut.admin("GET", "/v1/xref/customer", params={"format": "csv"})
    assert csv.content.startswith("\ufeff".encode())  # Excel shows Chinese only with a BOM
    assert csv.content.decode("utf-8-sig").splitlines() == [
        "erp,mes,wms",
        "C0001,900123,CUST-01",
        "C0002,900456,CUST-02",
    ]
    domains = (await gut.admin("GET", "/v1/xref")).json()["domains"]
    assert {d["domain"]: d["entities"] for d in domains} == {"customer": 2, "material": 3}


async def test_csv_import_reports_bad_rows_and_applies_good_ones(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    body = "erp,mes\nC0003,900789\nC0001,900124\nC0004,900456\n"  # last: 900456 is C0002's
    response = await gut.admin(
        "POST",
        "/v1/xref/customer/import",
        content=body.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["updated"]) == (1, 1)
    assert [e["row"] for e in result["errors"]] == [4]
    assert gut.gateway.xref.lookup("customer", "erp", "mes", "C0001") == "900124"
    assert gut.gateway.xref.lookup("customer", "erp", "wms", "C0001") == "CUST-01"  # kept

    ragged = await gut.admin(
        "POST",
        "/v1/xref/customer/import",
        content=b"erp,mes\nC1\n",
        headers={"Content-Type": "text/csv"},
    )
    assert ragged.status_code == 422
    assert ragged.json()["error"]["field"] == "customer.csv:2"


async def test_a_change_reaches_another_process_and_seed_never_overwrites(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    folder = config_with_masterdata(tmp_path / "cfg", target)
    gut = await make_gateway(folder, xref_refresh=0.1)
    other = GatewayUnderTest(Settings(**{**gut.settings.model_dump(), "xref_refresh": 0.1}))
    await other.start(relay=False, worker=False)
    try:
        await gut.admin("PUT", "/v1/xref/customer/erp/C0001", json={"codes": {"mes": "111"}})
        for _ in range(100):
            if other.gateway.xref.lookup("customer", "erp", "mes", "C0001") == "111":
                break
            await asyncio.sleep(0.05)
        assert other.gateway.xref.lookup("customer", "erp", "mes", "C0001") == "111"
        await other.stop()
        await other.start(relay=False, worker=False)  # seeding again must not undo the change
        assert other.gateway.xref.lookup("customer", "erp", "mes", "C0001") == "111"
    finally:
        await other.stop()
        await other.client.aclose()


def test_cli_import_and_export(tmp_path: Path) -> None:
    env = {**os.environ, "ESB_DATA_DIR": str(tmp_path / "var"), "ESB_LANG": "en"}
    esb = [sys.executable, "-m", "esb"]
    assert subprocess.run([*esb, "db", "upgrade"], env=env, capture_output=True).returncode == 0
    csv_file = str(MASTERDATA / "customer.csv")
    imported = subprocess.run(
        [*esb, "xref", "import", "customer", csv_file], env=env, capture_output=True, text=True
    )
    assert imported.returncode == 0, imported.stderr
    assert "customer: 2 created" in imported.stdout
    exported = subprocess.run(
        [*esb, "xref", "export", "customer"], env=env, capture_output=True, text=True
    )
    assert exported.stdout == "\ufeff" + (MASTERDATA / "customer.csv").read_text()


async def test_two_refreshes_at_once_load_a_changed_domain_once_and_both_see_it(
    make_gateway, target: TargetServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target), xref_refresh=60)
    loads: list[str] = []
    load_index = esb.xref.load_index

    async def counted(engine: Any, domain: str) -> Any:
        loads.append(domain)
        return await load_index(engine, domain)

    monkeypatch.setattr(esb.xref, "load_index", counted)
    await store.put_entity(gut.gateway.engine, "customer", "erp", "C0003", {}, actor="test")
    xref = gut.gateway.xref
    assert await asyncio.gather(xref.refresh(), xref.refresh()) == [["customer"], ["customer"]]
    assert loads == ["customer"]
    assert xref.lookup("customer", "erp", "erp", "C0003") == "C0003"
