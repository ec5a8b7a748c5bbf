"""The master-data sync check against real HTTP stand-ins, in both gateway modes: each
system's own code list against the cross-reference, on demand (API and ``esb xref
check``) and on a schedule (the health report shows an out-of-sync domain)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from esb.testing import ListApiServer
from tests.integration.test_cli_operate import command_env
from tests.support.cli import esb
from tests.support.drops import eventually
from tests.support.gateway import GatewayUnderTest, rest_interface, write_config

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "scenario"


def page(name: str) -> Any:
    return json.loads((SCENARIO / "inputs" / name).read_text(encoding="utf-8"))


@pytest.fixture
async def erp() -> AsyncIterator[ListApiServer]:
    pages = {"1": page("erp_customers_page1.json"), "2": page("erp_customers_page2.json")}
    server = await ListApiServer(pages=pages).start()
    yield server
    await server.stop()


@pytest.fixture
async def mes() -> AsyncIterator[ListApiServer]:
    """MES lists its customer ids as a bare JSON array, all at once."""
    server = await ListApiServer(pages={"1": ["900123", "900456", "900999"]}, path="/ids").start()
    yield server
    await server.stop()


def masterdata_yaml(erp: ListApiServer, mes: ListApiServer, schedule: str | None) -> str:
    scheduled = f"    schedule: {schedule}\n" if schedule else ""
    return f"""
checks:
  customer:
{scheduled}    systems:
      erp: {{url: "{erp.url}/api/customers", items: items, code: code}}
      mes: {{url: "{mes.url}/ids", items: null, code: null, page_param: null}}
      wms: {{url: "http://127.0.0.1:9/wms/customers", timeout: {{connect: 1s, total: 2s}}}}
"""


def configured(folder: Path, erp: ListApiServer, mes: ListApiServer, schedule: str | None) -> Path:
    write_config(folder, rest_interface("http://127.0.0.1:9"))
    shutil.copytree(SCENARIO / "masterdata", folder / "masterdata")
    (folder / "masterdata.yaml").write_text(masterdata_yaml(erp, mes, schedule))
    return folder


def check_expected(result: dict[str, Any]) -> None:
    assert result["domain"] == "customer"
    assert result["in_sync"] is False
    erp, mes, wms = (result["systems"][s] for s in ("erp", "mes", "wms"))
    assert erp["error"] is None
    assert (erp["listed"], erp["in_xref"]) == (3, 2)
    assert erp["only_in_xref"] == {"count": 1, "codes": ["C0002"]}
    assert erp["only_in_system"] == {"count": 2, "codes": ["C0003", "C0004"]}
    assert mes["only_in_xref"] == {"count": 0, "codes": []}
    assert mes["only_in_system"] == {"count": 1, "codes": ["900999"]}
    assert wms["error"].startswith("http://127.0.0.1:9/wms/customers page 1: ConnectError")
    assert result["checked_at"].endswith("+08:00")  # the factory's zone


async def test_the_check_reports_codes_missing_on_either_side(
    make_gateway: Any, erp: ListApiServer, mes: ListApiServer, tmp_path: Path
) -> None:
    gut: GatewayUnderTest = await make_gateway(configured(tmp_path / "cfg", erp, mes, None))
    missing = await gut.admin("GET", "/v1/xref/customer/check")
    assert missing.status_code == 404
    assert "not been checked yet" in missing.json()["error"]["message"]

    response = await gut.admin("POST", "/v1/xref/customer/check")
    assert response.status_code == 200, response.text
    check_expected(response.json())
    assert [p.query for p in erp.pulls()] == [{"page": "1"}, {"page": "2"}]
    assert [p.query for p in mes.pulls()] == [{}]
    assert (await gut.admin("GET", "/v1/xref/customer/check")).json() == response.json()

    unknown = await gut.admin("POST", "/v1/xref/material/check")
    assert unknown.status_code == 404
    assert "no sync check for 'material' in masterdata.yaml (checks: customer)" in unknown.text
    assert (await gut.client.post(f"{gut.url}/v1/xref/customer/check")).status_code == 401

    # the same from the command line: a person's summary, exit code 1 while out of sync
    env = command_env(gut)
    shown = await asyncio.to_thread(esb, "xref", "check", "customer", env=env)
    assert shown.returncode == 1, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("customer: OUT OF SYNC (checked ")
    assert "  erp: 3 listed, 2 in the cross-reference; 1 only in the cross-reference, " \
        "2 only in erp" in lines  # fmt: skip
    assert "    only in the cross-reference: C0002" in lines
    assert "    only in erp: C0003, C0004" in lines
    assert any(line.startswith("  wms: list not read: ") for line in lines)
    as_json = await asyncio.to_thread(esb, "xref", "check", "customer", "--json", env=env)
    check_expected(json.loads(as_json.stdout))
    wrong = await asyncio.to_thread(esb, "xref", "check", "supplier", env=env)
    assert wrong.returncode == 2
    assert "no check for 'supplier' in masterdata.yaml" in wrong.stderr


async def test_a_scheduled_check_shows_in_the_health_report(
    make_gateway: Any, erp: ListApiServer, mes: ListApiServer, tmp_path: Path
) -> None:
    gut: GatewayUnderTest = await make_gateway(configured(tmp_path / "cfg", erp, mes, "1s"))

    async def reported() -> dict[str, Any] | None:
        report = (await gut.admin("GET", "/v1/report")).json()
        found = [s for s in report["schedules"] if s["job"] == "xref-check-customer"]
        return found[0] if found and found[0]["runs"] >= 2 else None

    record = await eventually(reported, what="two scheduled checks in the health report")
    assert record["error"].startswith("CheckFailed: customer out of sync: erp: 1 only in xref")
    check_expected((await gut.admin("GET", "/v1/xref/customer/check")).json())
    metrics = (await gut.client.get(f"{gut.url}/metrics")).text
    assert 'job="xref-check-customer"' in metrics


def test_a_wrong_masterdata_yaml_is_refused_naming_file_line_and_key(tmp_path: Path) -> None:
    from esb.config.loader import load_config
    from esb.connectors import load_registry
    from esb.errors import ConfigError

    folder = write_config(tmp_path / "cfg", rest_interface("http://127.0.0.1:9"))
    (folder / "masterdata.yaml").write_text(
        "checks:\n  customer:\n    schedule: sometimes\n    systems:\n"
        "      erp: {url: ftp://erp/list, itmes: items}\n"
    )
    with pytest.raises(ConfigError) as refused:
        load_config(folder, load_registry(), {})
    problems = "\n".join(refused.value.problems)
    assert "masterdata.yaml:3: checks.customer.schedule: not a schedule: 'sometimes'" in problems
    assert "masterdata.yaml:5: checks.customer.systems.erp.url: must start with http" in problems
    assert "unknown key 'itmes': did you mean 'items'?" in problems
