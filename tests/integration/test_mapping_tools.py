"""Tools for people who edit mappings: mapping test, HTTP preview, before-you-deploy diff."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from esb.settings import Settings, demo_config_dir
from tests.support.gateway import ERP_KEY, GatewayUnderTest
from tests.support.target import TargetServer

VECTORS = Path(__file__).resolve().parents[1] / "data" / "scenario"


def esb(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "esb", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_mapping_test_passes_and_fails_with_a_readable_diff(tmp_path: Path) -> None:
    env = {"ESB_CONFIG": str(demo_config_dir()), "ESB_DATA_DIR": str(tmp_path)}
    good = esb(
        "mapping",
        "test",
        "sales-order-to-mes",
        str(VECTORS / "inputs/sales_order_sample.json"),
        str(VECTORS / "expected/mes_work_order_sample.json"),
        env=env,
    )
    assert good.returncode == 0, good.stderr
    assert "matches the expected body" in good.stdout
    bad = esb(
        "mapping",
        "test",
        "sales-order-to-mes",
        str(VECTORS / "inputs/sales_order_urgent.json"),
        str(VECTORS / "expected/mes_work_order_normal.json"),
        env=env,
    )
    assert bad.returncode == 1
    assert 'priority: expected "NORMAL", got "URGENT"' in bad.stdout
    unknown = esb(
        "mapping", "test", "nope", str(VECTORS / "inputs/sales_order_urgent.json"), env=env
    )
    assert unknown.returncode == 2
    assert "sales-order-to-mes" in unknown.stderr


def demo_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    shutil.copytree(demo_config_dir(), folder)
    return folder


async def test_preview_over_http(make_gateway, target: TargetServer, tmp_path: Path) -> None:
    env = {"ERP_API_KEY": ERP_KEY, "MES_URL": target.url, "DROP_DIR": str(tmp_path / "drop")}
    gut = await make_gateway(demo_copy(tmp_path), env=env, config_watch=False)
    order = json.loads((VECTORS / "inputs/sales_order_normal.json").read_text())
    expected = json.loads((VECTORS / "expected/mes_work_order_normal.json").read_text())
    response = await gut.admin(
        "POST",
        "/v1/mappings/sales-order-to-mes/preview",
        json={"input": order, "expected": expected},
    )
    assert response.status_code == 200, response.text
    assert response.json()["matches"] is True
    assert response.json()["output"] == expected
    unknown_customer = {**order, "CustCode": "C9999"}
    failing = await gut.admin(
        "POST", "/v1/mappings/sales-order-to-mes/preview", json={"input": unknown_customer}
    )
    assert "C9999" in failing.json()["error"]
    assert (
        await gut.admin("POST", "/v1/mappings/nope/preview", json={"input": {}})
    ).status_code == 404
    listed = (await gut.admin("GET", "/v1/mappings")).json()["mappings"]
    assert {"name": "sales-order-to-mes", "source": "erp", "target": "mes"}.items() <= next(
        m for m in listed if m["name"] == "sales-order-to-mes"
    ).items()
    as_system = await gut.client.post(
        f"{gut.url}/v1/mappings/sales-order-to-mes/preview",
        json={"input": order},
        headers={"Authorization": f"Bearer {ERP_KEY}"},
    )
    assert as_system.status_code == 403


async def test_diff_shows_what_the_target_would_now_receive(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    folder = demo_copy(tmp_path)
    env = {"ERP_API_KEY": ERP_KEY, "MES_URL": target.url, "DROP_DIR": str(tmp_path / "drop")}
    gut: GatewayUnderTest = await make_gateway(folder, env=env, config_watch=False)
    for kind in ("normal", "sample"):
        order = json.loads((VECTORS / f"inputs/sales_order_{kind}.json").read_text())
        accepted = await gut.send("sales_order", order)
        await gut.wait_status(accepted.json()["id"], "delivered")

    mapping = folder / "mappings" / "sales-order-to-mes.yaml"  # the edit under review
    mapping.write_text(mapping.read_text().replace('"03": SAMPLE', '"03": PROTOTYPE'))

    settings: Settings = gut.settings
    process_env = {**env, "ESB_CONFIG": str(folder), "ESB_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        process_env["ESB_DATABASE_URL"] = settings.database_url
    # in a thread: the gateway runs on this loop and must finish its transactions meanwhile
    result = await asyncio.to_thread(
        esb, "mapping", "diff", "sales-order-to-mes", "--last", "10", env=process_env
    )
    assert result.returncode == 1, result.stderr
    assert "== sales-order -> mes: last 2 messages" in result.stdout
    assert "SO-20261124-0001" in result.stdout
    assert "unchanged" in result.stdout
    assert 'priority: expected "SAMPLE", got "PROTOTYPE"' in result.stdout
    assert "1 message(s) would be sent differently" in result.stdout


def test_mapping_test_says_to_edit_the_masterdata_csv_it_reads(tmp_path: Path) -> None:
    folder = demo_copy(tmp_path)
    env = {"ESB_CONFIG": str(folder), "ESB_DATA_DIR": str(tmp_path / "var")}
    sample = str(VECTORS / "inputs/sales_order_unknown_customer.json")
    for expected in ([], [str(VECTORS / "expected/mes_work_order_normal.json")]):
        result = esb("mapping", "test", "sales-order-to-mes", sample, *expected, env=env)
        assert result.returncode == 1, result.stdout
        assert "Traceback" not in result.stderr
        assert "no mes code for erp code 'C9999'" in result.stderr
        assert f"in {folder / 'masterdata'}; add a row to masterdata/customer.csv" in result.stderr
        assert "with 'C9999' under erp and its mes code" in result.stderr
        assert "/v1/xref" not in result.stderr  # the API is not where this command looks
    with (folder / "masterdata" / "customer.csv").open("a", encoding="utf-8") as csv:
        csv.write("C9999,900999,CUST-99\n")  # what the message said to do
    fixed = esb("mapping", "test", "sales-order-to-mes", sample, env=env)
    assert fixed.returncode == 0, fixed.stderr
    assert '"900999"' in fixed.stdout
    (folder / "masterdata" / "customer.csv").write_text("erp,wms\nC0001,CUST-01\n")
    no_column = esb("mapping", "test", "sales-order-to-mes", sample, env=env)
    assert "add a mes column to masterdata/customer.csv, and a row" in no_column.stderr
    (folder / "masterdata" / "customer.csv").unlink()
    no_file = esb("mapping", "test", "sales-order-to-mes", sample, env=env)
    assert "create masterdata/customer.csv with a header erp,mes and a row" in no_file.stderr
    assert not (tmp_path / "var").exists()  # an offline tool: no database


async def test_diff_of_an_unedited_mapping_ignores_operator_corrections(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    folder = demo_copy(tmp_path)
    env = {"ERP_API_KEY": ERP_KEY, "MES_URL": target.url, "DROP_DIR": str(tmp_path / "drop")}
    gut: GatewayUnderTest = await make_gateway(folder, env=env, config_watch=False)
    target.script.append(400)  # the MES refuses the first order: an operator corrects it
    order = json.loads((VECTORS / "inputs/sales_order_normal.json").read_text())
    parked = await gut.wait_status((await gut.send("sales_order", order)).json()["id"], "parked")
    [delivery] = parked["deliveries"]
    fixed = {**delivery["sent_body"], "priority": "URGENT"}
    corrected = await gut.admin("POST", f"/v1/deliveries/{delivery['id']}/correct",
                                json={"reason": "customer called", "body": fixed})  # fmt: skip
    assert corrected.status_code == 200, corrected.text
    await gut.wait_status(parked["id"], "delivered")
    sample = json.loads((VECTORS / "inputs/sales_order_sample.json").read_text())
    await gut.wait_status((await gut.send("sales_order", sample)).json()["id"], "delivered")
    assert target.bodies()[-2]["priority"] == "URGENT"  # the MES got the operator's body

    settings: Settings = gut.settings
    process_env = {**env, "ESB_CONFIG": str(folder), "ESB_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        process_env["ESB_DATABASE_URL"] = settings.database_url
    unedited = await asyncio.to_thread(
        esb, "mapping", "diff", "sales-order-to-mes", env=process_env
    )
    assert unedited.returncode == 0, unedited.stdout + unedited.stderr
    assert "[corrected by an operator: compared with what the mapping produced]: unchanged" in (
        unedited.stdout
    )
    assert "0 message(s) would be sent differently" in unedited.stdout

    mapping = folder / "mappings" / "sales-order-to-mes.yaml"
    mapping.write_text(mapping.read_text().replace('"01": NORMAL', '"01": ROUTINE'))
    edited = await asyncio.to_thread(esb, "mapping", "diff", "sales-order-to-mes", env=process_env)
    assert edited.returncode == 1, edited.stderr
    assert 'priority: expected "NORMAL", got "ROUTINE"' in edited.stdout  # against the mapping's
    assert "1 message(s) would be sent differently" in edited.stdout
