"""Master-data texts the store cannot hold (NUL, beyond their column) are refused with 422
naming the field, or the CSV row and column, the same in both modes: never a 5xx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_xref import config_with_masterdata
from tests.integration.test_xref_export import cli
from tests.support.target import TargetServer

NUL = "contains a NUL character (\\u0000), which cannot be stored"
LONG_NAME, LONG_CODE = "d" * 101, "c" * 201

#: (method, path, JSON body, the field the 422 names)
REQUESTS: list[tuple[str, str, Any, str]] = [
    ("GET", "/v1/xref/cu%00stomer", None, "domain"),
    ("GET", f"/v1/xref/{LONG_NAME}?format=csv", None, "domain"),
    ("GET", "/v1/xref/customer/e%00rp/C0001", None, "system"),
    ("GET", f"/v1/xref/customer/{LONG_NAME}/C0001", None, "system"),
    ("GET", "/v1/xref/customer/erp/C00%0001", None, "code"),
    ("GET", f"/v1/xref/customer/erp/{LONG_CODE}", None, "code"),
    ("PUT", "/v1/xref/customer/erp/C00%0001", {"codes": {}}, "code"),
    ("PUT", f"/v1/xref/customer/erp/{LONG_CODE}", {"codes": {}}, "code"),
    ("PUT", f"/v1/xref/{LONG_NAME}/erp/C0001", {"codes": {}}, "domain"),
    ("PUT", "/v1/xref/customer/erp/C0001", {"codes": {"mes": "9\x0001"}}, "codes.mes"),
    ("PUT", "/v1/xref/customer/erp/C0001", {"codes": {"mes": LONG_CODE}}, "codes.mes"),
    ("PUT", "/v1/xref/customer/erp/C0001", {"codes": {}, "reason": "a\x00b"}, "reason"),
    ("PUT", "/v1/xref/customer/erp/C0001", {"codes": {}, "reason": "r" * 2001}, "reason"),
    ("DELETE", "/v1/xref/customer/erp/C00%0001", None, "code"),
    ("DELETE", f"/v1/xref/{LONG_NAME}/erp/C0001", None, "domain"),
    ("POST", f"/v1/xref/{LONG_NAME}/import", None, "domain"),
]


async def test_texts_in_paths_and_bodies_are_refused_naming_them(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    for method, path, body, field in REQUESTS:
        answer = await gut.admin(method, path, json=body)
        assert answer.status_code == 422, (method, path, answer.status_code, answer.text)
        assert answer.json()["error"]["field"] == field, (method, path, answer.text)
    nul = await gut.admin("PUT", "/v1/xref/customer/erp/C0001", json={"codes": {"mes": "\x00"}})
    assert nul.json()["error"]["message"] == f"codes.mes: {NUL}"
    assert gut.gateway.xref.lookup("customer", "erp", "mes", "C0001") == "900123"  # unchanged


@pytest.mark.parametrize(
    ("csv", "fields"),
    [
        ("erp,mes\nC7,ok\nC8,bad\x00\n", ["customer.csv:3:mes"]),
        (
            f"erp,mes\nC7,ok\nC8,{LONG_CODE}\nC9,\x00\n",
            ["customer.csv:3:mes", "customer.csv:4:mes"],
        ),
        (f"erp,{LONG_NAME}\nC7,ok\n", ["customer.csv:1:2"]),
        ("erp,m\x00es\nC7,ok\n", ["customer.csv:1:2"]),
        ("erp,mes\nC7,ok\nC8\n", ["customer.csv:3"]),
    ],
)
async def test_csv_cells_are_refused_by_row_and_column_and_nothing_is_imported(
    make_gateway, target: TargetServer, tmp_path: Path, csv: str, fields: list[str]
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    answer = await gut.admin(
        "POST", "/v1/xref/customer/import", content=csv.encode(),
        headers={"Content-Type": "text/csv"},
    )  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["error"]["errors"]] == fields
    assert (await gut.admin("GET", "/v1/xref/customer/erp/C7")).status_code == 404


async def test_a_body_that_is_not_utf_8_is_refused_by_row(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    body = "erp,wms\nC7,上海仓\n".encode("gb18030")
    answer = await gut.admin(
        "POST", "/v1/xref/customer/import", content=body, headers={"Content-Type": "text/csv"}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["errors"] == [
        {"field": "customer.csv:2:wms", "message": "is not UTF-8"}
    ]


async def test_the_cli_holds_its_arguments_and_files_to_the_same_rules(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(config_with_masterdata(tmp_path / "cfg", target))
    bad = tmp_path / "customer.csv"
    bad.write_text("erp,mes\nC7,ok\nC8,bad\x00\n", encoding="utf-8")
    refused = await cli(gut.settings, "xref", "import", "customer", str(bad))
    assert refused.returncode == 1
    assert f"{bad}:3:mes: {NUL}".encode() in refused.stderr

    good = tmp_path / "good.csv"
    good.write_text("erp,mes\nC7,ok\n", encoding="utf-8")
    for args, field in [
        (["xref", "import", LONG_NAME, str(good)], "domain"),
        (["xref", "import", "customer", str(good), "--reason", "r" * 2001], "reason"),
        (["xref", "import", "cust omer", str(good)], "domain"),
        (["xref", "export", LONG_NAME], "domain"),
    ]:
        answer = await cli(gut.settings, *args)
        assert answer.returncode == 1, (args, answer.stdout, answer.stderr)
        assert answer.stderr.startswith(f"error: {field}: ".encode()), answer.stderr
    assert (await gut.admin("GET", "/v1/xref/customer/erp/C7")).status_code == 404
