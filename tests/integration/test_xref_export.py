"""Exporting master data, in both modes: formula cells neutralised (OWASP CSV injection),
an export that imports back to the same codes, UTF-8 with a BOM, any domain's file name;
the CLI the same as HTTP."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from esb.settings import Settings
from tests.integration.test_xref import config_with_masterdata
from tests.support.gateway import GatewayUnderTest
from tests.support.target import TargetServer

#: Codes a spreadsheet would run, or would take a character off, as people send them.
FORMULAS = {
    "=cmd|' /C calc'!A0": "CUST-A",
    "+SUM(1,2)": "CUST-B",
    "-2+3": "CUST-C",
    '@HYPERLINK("http://evil.example","x")': "CUST-D",
    "\tTAB": "CUST-E",
    "\rCR": "CUST-F",
    "'=quoted already": "CUST-G",
    "''": "CUST-H",
}


async def entities(gut: GatewayUnderTest, domain: str) -> list[dict[str, str]]:
    answer = await gut.admin("GET", f"/v1/xref/{domain}")
    assert answer.status_code == 200, answer.text
    return sorted(answer.json()["entities"], key=lambda e: sorted(e.items()))


async def test_formula_cells_are_neutralised_and_an_export_imports_back_to_the_same_codes(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    for n, (mes, wms) in enumerate(FORMULAS.items()):
        put = await gut.admin(
            "PUT", f"/v1/xref/customer/erp/-{n}", json={"codes": {"mes": mes, "wms": wms}}
        )
        assert put.status_code == 200, put.text

    exported = await gut.admin("GET", "/v1/xref/customer", params={"format": "csv"})
    assert exported.status_code == 200, exported.text
    cells = [
        c
        for row in csv.reader(io.StringIO(exported.content.decode("utf-8-sig"), newline=""))
        for c in row
    ]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert "'=cmd|' /C calc'!A0" in cells
    assert "'-0" in cells  # the key column too
    assert "''=quoted already" in cells  # an apostrophe import would take off: doubled

    back = await gut.admin(
        "POST", "/v1/xref/copy/import", content=exported.content,
        headers={"Content-Type": "text/csv"},
    )  # fmt: skip
    assert back.status_code == 200, back.text
    assert back.json()["created"] == len(FORMULAS) + 2
    assert await entities(gut, "copy") == await entities(gut, "customer")


async def test_an_export_opens_in_excel_and_any_domain_has_a_file_name(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    await gut.admin("PUT", "/v1/xref/customer/erp/C0009", json={"codes": {"wms": "上海仓-9"}})
    exported = await gut.admin("GET", "/v1/xref/customer", params={"format": "csv"})
    assert exported.content.startswith(b"\xef\xbb\xbf")
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert "C0009,,上海仓-9" in exported.content.decode("utf-8-sig").splitlines()
    assert exported.headers["content-disposition"] == (
        "attachment; filename=\"customer.csv\"; filename*=UTF-8''customer.csv"
    )

    chinese = await gut.admin("GET", "/v1/xref/中", params={"format": "csv"})
    assert chinese.status_code == 200, chinese.text
    assert chinese.headers["content-disposition"] == (
        "attachment; filename=\"_.csv\"; filename*=UTF-8''%E4%B8%AD.csv"
    )
    assert chinese.content == b"\xef\xbb\xbf\r\n"  # no such domain: no systems, no rows


async def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``esb`` in a process of its own, on the gateway's database (either mode). Awaited in
    a thread: the gateway under test runs on this event loop, and blocking it in the middle
    of one of its transactions would hold SQLite's lock against the command."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESB_")}
    env["ESB_DATA_DIR"] = str(settings.data_dir)
    env["ESB_LANG"] = "en"  # the English summary line is checked
    if settings.database_url:
        env["ESB_DATABASE_URL"] = settings.database_url
    command = [sys.executable, "-m", "esb", *args]
    return await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, timeout=120
    )


async def test_the_cli_exports_and_imports_the_same_way(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    await gut.admin("PUT", "/v1/xref/customer/erp/C0003", json={"codes": {"mes": "=1+2"}})
    exported = await cli(gut.settings, "xref", "export", "customer")
    assert exported.returncode == 0, exported.stderr
    http = await gut.admin("GET", "/v1/xref/customer", params={"format": "csv"})
    assert exported.stdout == http.content  # the same bytes, BOM included
    assert b"\r\nC0003,'=1+2,\r\n" in exported.stdout

    path = tmp_path / "customer.csv"
    path.write_bytes(exported.stdout)
    imported = await cli(
        gut.settings, "xref", "import", "copy", str(path), "--reason", "round trip"
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == b"copy: 3 created, 0 updated, 0 unchanged, 0 refused"
    copied: list[dict[str, Any]] = await entities(gut, "copy")
    assert copied == await entities(gut, "customer")
    assert {"erp": "C0003", "mes": "=1+2"} in copied
