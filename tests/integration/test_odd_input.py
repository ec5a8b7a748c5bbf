"""Odd input at the door: each odd value gets the same precise answer in both modes, and
valid orders sent at the same moment are never failed by their neighbours (issue 9, item 1).

The expected answer of every case is written in the table, and the test runs in both
modes: so both modes answer each case identically, and never with a 5xx.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from esb.settings import demo_config_dir
from tests.support.gateway import ERP_KEY, GatewayUnderTest, write_config
from tests.support.target import TargetServer

DEMO = demo_config_dir()
ORDER = orjson.loads(
    (Path(__file__).parents[1] / "data/scenario/inputs/sales_order_normal.json").read_bytes()
)

INTERFACES = """
interfaces:
  sales-order:
    source: erp
    message_type: sales_order
    key: OrderNo
    schema: schemas/sales_order.schema.json
    retry: {{schedule: [0.2s], jitter: 0}}
    targets:
      mes:
        mapping: sales-order-to-mes
        connector: {{kind: rest, url: "{url}/api/work-orders", timeout: {{total: 5s}}}}
"""


def demo_config(folder: Path, target_url: str) -> Path:
    """The demo's sales-order schema, MES mapping, code tables and master data."""
    for part in ("schemas", "mappings", "code-tables", "masterdata"):
        shutil.copytree(DEMO / part, folder / part)
    return write_config(folder, INTERFACES.format(url=target_url))


def with_nested(no: str, depth: int) -> bytes:
    """An order with an ``Extra`` field of ``depth`` arrays (raw: encoders stop at 255)."""
    return orjson.dumps(order(no))[:-1] + b',"Extra":' + b"[" * depth + b"1" + b"]" * depth + b"}"


def order(no: Any, **changes: Any) -> dict[str, Any]:
    return {**ORDER, "OrderNo": no, **changes}


def line(**changes: Any) -> list[dict[str, Any]]:
    return [{**ORDER["Lines"][0], **changes}]


@dataclass
class Case:
    name: str
    body: bytes
    status: int
    code: str | None = None  # the error code of a refusal
    names: str | None = None  # the field a refusal names
    headers: dict[str, str] = field(default_factory=dict)


def case(
    name: str,
    body: Any,
    status: int,
    code: str | None = None,
    fld: str | None = None,
    **headers: str,
) -> Case:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return Case(name, raw, status, code, fld, {k.replace("_", "-"): v for k, v in headers.items()})


def raw_order(no: str, line_no: str) -> bytes:
    """An order whose first LineNo is written as given (numbers orjson would not write)."""
    text = orjson.dumps(order(no)).decode()
    return text.replace('"LineNo":10', f'"LineNo":{line_no}', 1).encode()


CASES = [
    case("nul in the key", order("SO-\x00-1"), 422, "unstorable_value", "OrderNo"),
    case(
        "nul in a line",
        order("SO-ODD-2", Lines=line(MaterialCode="MAT\x00")),
        422,
        "unstorable_value",
        "Lines[0].MaterialCode",
    ),
    case("nul in a name", {**order("SO-ODD-3"), "x\x00": 1}, 422, "unstorable_value", "x\\u0000"),
    case("key of 197", order("SO-ODD-4"), 202, Idempotency_Key="k" * 197),
    case("key of 200", order("SO-ODD-5"), 202, Idempotency_Key="k" * 200),
    case(
        "key of 201",
        order("SO-ODD-6"),
        422,
        "bad_idempotency_key",
        "Idempotency-Key",
        Idempotency_Key="k" * 201,
    ),
    case("order number of 200", order("S" * 200), 202),
    case("order number of 300", order("S" * 300), 422, "bad_business_key", "OrderNo"),
    case(
        "nested 65 deep",
        with_nested("SO-ODD-9", 64),
        422,
        "unstorable_value",
        "Extra" + "[0]" * 63,
    ),
    case("nested 300 deep", with_nested("SO-ODD-10", 299), 422, "unstorable_value"),
    case("nested 2000 deep", b'{"a":' + b"[" * 2000 + b"]" * 2000 + b"}", 422, "malformed_json"),
    case(
        "2^64 as LineNo",
        raw_order("SO-ODD-12", "18446744073709551616"),
        422,
        "unstorable_value",
        "Lines[0].LineNo",
    ),
    case(
        "1e20 as LineNo", raw_order("SO-ODD-13", "1e20"), 422, "unstorable_value", "Lines[0].LineNo"
    ),
    case("1e300 as LineNo", raw_order("SO-ODD-14", "1e300"), 422, "unstorable_value"),
    case("1e400 as LineNo", raw_order("SO-ODD-15", "1e400"), 422, "malformed_json"),
    case("NaN as LineNo", raw_order("SO-ODD-16", "NaN"), 422, "malformed_json"),
    case("u64 max as LineNo", raw_order("SO-ODD-17", "18446744073709551615"), 202),
    case("lone surrogate", b'{"OrderNo": "SO-\\ud800"}', 422, "malformed_json"),
    case("not UTF-8", b'{"OrderNo": "SO-\xff\xfe"}', 422, "malformed_json"),
    case("empty body", b"", 422, "malformed_json"),
    case("null body", b"null", 422, "validation_failed"),
    case("array body", b"[]", 422, "validation_failed"),
    case("number as key", order(12345), 422, "validation_failed", "OrderNo"),
    case("40-digit Qty", order("SO-ODD-24", Lines=line(Qty="1" * 40)), 202),
    case("emoji key", order("SO-😀-25"), 202),
    case("duplicate names", b'{"OrderNo": "x", ' + orjson.dumps(order("SO-ODD-26"))[1:], 202),
    case("plain text", b"OrderNo=1", 415, "unsupported_media_type", Content_Type="text/plain"),
]


async def post(gut: GatewayUnderTest, raw: bytes, headers: dict[str, str]) -> Any:
    return await gut.client.post(
        f"{gut.url}/v1/messages/sales_order",
        content=raw,
        headers={
            "Authorization": f"Bearer {ERP_KEY}",
            "Content-Type": "application/json",
            **headers,
        },
    )


async def test_odd_values_get_the_same_answer_in_both_modes_and_fail_no_neighbour(
    make_gateway: Any, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(demo_config(tmp_path / "cfg", target.url))
    valid = [orjson.dumps(order(f"SO-VALID-{n:03d}")) for n in range(60)]
    for repeat in (False, True):  # the second round's accepted cases are repeats
        requests = [post(gut, raw, {}) for raw in valid] + [
            post(gut, c.body, c.headers) for c in CASES
        ]
        answers = await asyncio.gather(*requests)
        for raw, answer in zip(valid, answers, strict=False):
            assert answer.status_code in (200, 202), (raw, answer.text)
        for c, answer in zip(CASES, answers[len(valid) :], strict=True):
            got = answer.json().get("error", {}) if answer.status_code >= 400 else {}
            expected_status = 200 if c.status == 202 and repeat else c.status
            assert answer.status_code == expected_status, (c.name, answer.text)
            assert got.get("code") == c.code, (c.name, answer.text)
            if c.names is not None:
                assert got.get("field") == c.names, (c.name, answer.text)
    ids = [a.json()["id"] for a in answers if a.status_code < 300]
    for message_id in ids:  # every accepted one, odd or not, is delivered
        await gut.wait_status(message_id, "delivered", timeout=60)
    received = {r.json()["workOrderNo"]: r for r in target.received}
    assert b'"quantity":' + b"1" * 40 + b"," in received["SO-ODD-24"].body  # exact, not rounded
    assert received["SO-ODD-17"].json()["items"][0]["lineNo"] == 2**64 - 1
    assert len(target.received) == len(ids)
