"""The ``rest-poll`` source against a real HTTP list API: pages, watermark, failures.

Each test pulls through ``pull()`` (one tick) or ``run()`` (the schedule), with the
state in memory; the gateway-level tests (restart, two processes, the cross-reference)
are in tests/integration/test_customer_master.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from esb.connectors import load_registry
from esb.testing import ListApiServer, StandInGateway
from esb.testing.leaks import capture_logs
from esb_poll import RestPollSource
from esb_poll.answers import BadAnswer
from esb_poll.source import WATERMARK, PullFailed

SCENARIO = Path(__file__).resolve().parents[3] / "tests" / "data" / "scenario"
PAGE1 = json.loads((SCENARIO / "inputs/erp_customers_page1.json").read_text(encoding="utf-8"))
PAGE2 = json.loads((SCENARIO / "inputs/erp_customers_page2.json").read_text(encoding="utf-8"))
TOKEN = "erp-token-4711-never-shown"


@pytest.fixture
async def erp() -> AsyncIterator[ListApiServer]:
    server = await ListApiServer(pages={"1": PAGE1, "2": PAGE2}).start()
    yield server
    await server.stop()


class RecordingLog:
    """The source's logger: every line it writes, as (level, event, fields)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def __getattr__(self, level: str) -> Any:
        def write(event: str, **fields: Any) -> None:
            self.lines.append((level, event, fields))

        return write

    @property
    def text(self) -> str:
        return "\n".join(f"{level} {event} {fields}" for level, event, fields in self.lines)


def lines_of(source: RestPollSource) -> str:
    log: RecordingLog = source.context.log
    return log.text


def make(
    erp: ListApiServer, tmp_path: Path, gateway: StandInGateway | None = None, **options: Any
) -> tuple[RestPollSource, StandInGateway]:
    gateway = gateway or StandInGateway()
    config = load_registry().source_config(
        "rest-poll",
        {
            "url": f"{erp.url}/api/customers",
            "key": "code",
            "auth": {"type": "bearer", "token": TOKEN},
            "timeout": {"connect": 1, "total": 1},
            **options,
        },
    )
    context = gateway.context("customer-master", "erp", "customer", tmp_path)
    context = dataclasses.replace(context, log=RecordingLog())
    source = RestPollSource(config, context)  # type: ignore[arg-type]
    return source, gateway


async def test_the_first_pull_follows_the_pages_without_a_watermark(
    erp: ListApiServer, tmp_path: Path
) -> None:
    source, gateway = make(erp, tmp_path)
    try:
        assert await source.pull() == 3
    finally:
        await source.aclose()
    assert [p.query for p in erp.pulls()] == [{"page": "1"}, {"page": "2"}]
    assert erp.pulls()[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert [o.body for o in gateway.accepted()] == PAGE1["items"] + PAGE2["items"]
    assert await gateway.state.get(WATERMARK) == "2026-11-26T09:15:00+08:00"


async def test_the_next_pull_asks_from_the_watermark_and_an_unchanged_item_is_no_new_message(
    erp: ListApiServer, tmp_path: Path
) -> None:
    source, gateway = make(erp, tmp_path)
    try:
        await source.pull()
        assert await source.pull() == 0  # the API ignores updated_since: all are repeats
    finally:
        await source.aclose()
    since = "2026-11-26T09:15:00+08:00"
    assert [p.query for p in erp.pulls()[2:]] == [
        {"updated_since": since, "page": "1"},
        {"updated_since": since, "page": "2"},
    ]
    keys = [o.idempotency_key for o in gateway.offered]
    assert keys[:3] == keys[3:]
    assert keys[0] == "rest-poll:C0001@2026-11-20T00:00:00+00:00"


async def test_times_are_compared_as_instants_whatever_their_offset(
    erp: ListApiServer, tmp_path: Path
) -> None:
    erp.pages = {
        "1": {
            "items": [
                {"code": "A", "updated_at": "2026-11-26T09:15:00+08:00"},
                {"code": "B", "updated_at": "2026-11-26T01:30:00Z"},  # 09:30 in Shanghai
                {"code": "C", "updated_at": "2026-11-26T09:20:00"},  # no offset: the zone's
            ],
            "next_page": None,
        }
    }
    source, gateway = make(erp, tmp_path)
    try:
        await source.pull()
    finally:
        await source.aclose()
    assert await gateway.state.get(WATERMARK) == "2026-11-26T01:30:00Z"
    # an older watermark written in another offset is not moved backwards
    await gateway.state.put(WATERMARK, "2026-11-26T10:00:00+08:00")
    source, _ = make(erp, tmp_path, gateway)
    try:
        await source.pull()
    finally:
        await source.aclose()
    assert await gateway.state.get(WATERMARK) == "2026-11-26T10:00:00+08:00"
    c = next(o for o in gateway.offered if o.body["code"] == "C")
    assert c.idempotency_key == "rest-poll:C@2026-11-26T01:20:00+00:00"


@pytest.mark.parametrize(
    ("status", "body", "error", "match"),
    [
        (503, b"{}", PullFailed, r"page 2 of http://127\.0\.0\.1:\d+/api/\w+: HTTP 503"),
        (200, b"<html>oops</html>", BadAnswer, "page 2 .*: the answer is not JSON: <html>oops"),
        (200, b'{"items": {"code": "C9"}}', BadAnswer, "`items` should be a list of items, found"),
        (200, b'{"items": ["C9"]}', BadAnswer, "item 0 of `items` should be an object, found str"),
        (200, b'{"items": [], "next_page": [3]}', BadAnswer, "`next_page` should be a page number"),
        (302, b"", PullFailed, "HTTP 302"),
    ],
)
async def test_a_failing_or_malformed_page_leaves_the_watermark_and_takes_nothing_in(
    erp: ListApiServer, tmp_path: Path, status: int, body: bytes, error: type, match: str
) -> None:
    source, gateway = make(erp, tmp_path)
    await gateway.state.put(WATERMARK, "2026-11-01T00:00:00+08:00")
    erp.answer = lambda pulled: (status, body) if pulled.query.get("page") == "2" else None
    try:
        with pytest.raises(error, match=match):
            await source.pull()
    finally:
        await source.aclose()
    assert gateway.offered == []
    assert await gateway.state.get(WATERMARK) == "2026-11-01T00:00:00+08:00"


async def test_an_api_that_does_not_answer_fails_within_the_timeout(
    erp: ListApiServer, tmp_path: Path
) -> None:
    erp.delay_s = 1.0
    source, gateway = make(erp, tmp_path, timeout={"connect": 0.2, "total": 0.2})
    started = asyncio.get_running_loop().time()
    try:
        with pytest.raises(PullFailed, match=r"no answer within 0\.2s"):
            await source.pull()
    finally:
        await source.aclose()
    assert asyncio.get_running_loop().time() - started < 0.9
    assert await gateway.state.get(WATERMARK) is None


async def test_an_unreachable_api_fails_naming_the_page(tmp_path: Path) -> None:
    down = await ListApiServer().start()
    await down.stop()
    source, _ = make(down, tmp_path)
    try:
        with pytest.raises(PullFailed, match=r"page 1 of http://127\.0\.0\.1:\d+/api/\w+: Connect"):
            await source.pull()
    finally:
        await source.aclose()


async def test_an_answer_over_max_body_is_refused(erp: ListApiServer, tmp_path: Path) -> None:
    source, _ = make(erp, tmp_path, max_body=100)
    try:
        with pytest.raises(BadAnswer, match=r"larger than max_body \(100 bytes\)"):
            await source.pull()
    finally:
        await source.aclose()


async def test_a_cursor_is_kept_and_sent_back(erp: ListApiServer, tmp_path: Path) -> None:
    erp.pages = {
        "1": {"data": {"list": [{"id": 1}]}, "next": "t-2", "cursor": "c-1"},
        "t-2": {"data": {"list": [{"id": 2}]}, "next": None, "cursor": "c-2"},
    }
    options: dict[str, Any] = {
        "key": "id",
        "items": "data.list",
        "watermark": {"field": None, "cursor": "cursor", "param": "since"},
        "paging": {"param": "page", "first": None, "next": "next"},
    }
    source, gateway = make(erp, tmp_path, **options)
    try:
        assert await source.pull() == 2
        erp.pages["1"] = {"data": {"list": []}, "next": None, "cursor": None}
        assert await source.pull() == 0
    finally:
        await source.aclose()
    assert [p.query for p in erp.pulls()] == [{}, {"page": "t-2"}, {"since": "c-2"}]
    assert await gateway.state.get(WATERMARK) == "c-2"


async def test_a_next_page_url_is_followed_only_on_the_same_server(
    erp: ListApiServer, tmp_path: Path
) -> None:
    erp.pages = {"1": {"items": [{"code": "A"}], "next_page": f"{erp.url}/api/customers?page=2"}}
    erp.pages["2"] = {"items": [{"code": "B"}], "next_page": None}
    source, gateway = make(erp, tmp_path)
    try:
        await source.pull()
        erp.pages["1"]["next_page"] = "http://elsewhere.example/api/customers?page=2"
        with pytest.raises(BadAnswer, match="on another server"):
            await source.pull()
    finally:
        await source.aclose()
    assert [o.body["code"] for o in gateway.accepted()] == ["A", "B"]


async def test_an_endless_chain_of_pages_is_cut(erp: ListApiServer, tmp_path: Path) -> None:
    erp.pages = {"1": {"items": [], "next_page": 1}}
    source, _ = make(erp, tmp_path, paging={"max_pages": 5})
    try:
        with pytest.raises(BadAnswer, match=r"still a next page after 5 pages"):
            await source.pull()
    finally:
        await source.aclose()
    assert len(erp.pulls()) == 5


async def test_a_refused_item_is_reported_and_the_others_go_on(
    erp: ListApiServer, tmp_path: Path
) -> None:
    gateway = StandInGateway()
    accept = gateway.accept

    async def refuse_c0003(body: Any, **options: Any) -> Any:
        gateway.mode = "refuse" if body["code"] == "C0003" else "accept"
        return await accept(body, **options)

    gateway.accept = refuse_c0003  # type: ignore[method-assign,assignment]
    source, _ = make(erp, tmp_path, gateway)
    try:
        assert await source.pull() == 2
    finally:
        await source.aclose()
    assert "warning item refused {'key': 'rest-poll:C0003@2026-11-26T00:00:00+00:00'" in (
        lines_of(source)
    )
    assert await gateway.state.get(WATERMARK) == "2026-11-26T09:15:00+08:00"


async def test_the_schedule_records_a_failed_pull_and_goes_on(
    erp: ListApiServer, tmp_path: Path
) -> None:
    erp.script.extend([(500, b"{}")])
    source, gateway = make(erp, tmp_path, interval="0.1s")
    task = asyncio.create_task(source.run())
    try:
        for _ in range(100):
            record = await gateway.state.get("schedule/poll")
            if record and record.get("runs", 0) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await source.aclose()
    assert record["failures"] == 1
    assert record["error"] is None  # the second run went through
    assert await gateway.state.get(WATERMARK) == "2026-11-26T09:15:00+08:00"


async def test_no_secret_in_errors_or_log_lines(erp: ListApiServer, tmp_path: Path) -> None:
    source, _ = make(erp, tmp_path, headers={"X-Api-Key": "header-secret-99"})
    erp.script.extend([(500, orjson.dumps({"error": "down"}))])
    try:
        with capture_logs() as logs:
            with pytest.raises(PullFailed) as failed:
                await source.pull()
            await source.pull()
    finally:
        await source.aclose()
    assert erp.pulls()[0].headers["x-api-key"] == "header-secret-99"
    shown = lines_of(source)
    assert "info pulled" in shown
    for secret in (TOKEN, "header-secret-99"):
        assert secret not in str(failed.value)
        assert secret not in logs.text
        assert secret not in shown


def test_options_are_checked() -> None:
    registry = load_registry()
    with pytest.raises(ValueError, match=r"exactly one of watermark\.field and watermark\.cursor"):
        registry.source_config("rest-poll", {"url": "http://x/y", "watermark": {"field": None}})
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        registry.source_config("rest-poll", {"url": "http://x/y", "time_zone": "Mars/Base"})
    with pytest.raises(ValueError, match="not a schedule"):
        registry.source_config("rest-poll", {"url": "http://x/y", "interval": "often"})
