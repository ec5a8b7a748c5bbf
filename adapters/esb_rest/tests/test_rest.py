"""The REST connector against a real HTTP server: each outcome, timeouts, auth, cleanup."""

from __future__ import annotations

import socket
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest

from esb.connectors import ConnectorContext, Delivered, DeliveryRequest, Park, RetryLater
from esb_rest import RestConfig, RestConnector
from tests.support.target import TargetServer


def connector(url: str, **options: object) -> RestConnector:
    config = RestConfig.model_validate({"kind": "rest", "url": url, **options})
    return RestConnector(config, ConnectorContext(Path("."), "mes", "sales-order"))


def request(body: object = None) -> DeliveryRequest:
    return DeliveryRequest(
        uuid4(),
        uuid4(),
        "sales-order",
        "mes",
        "sales_order",
        "SO-1",
        1,
        body if body is not None else {"a": 1},
    )


async def test_delivers_json_with_idempotency_key_and_exact_decimals(target: TargetServer) -> None:
    rest = connector(f"{target.url}/api/x")
    req = request({"qty": Decimal("2.50"), "n": 3})
    outcome = await rest.deliver(req)
    await rest.aclose()
    assert outcome == Delivered(status_code=200)
    [got] = target.received
    assert got.body == b'{"qty":2.50,"n":3}'
    assert got.headers["idempotency-key"] == f"{req.message_id}:mes"
    assert got.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("status", "kind"), [(503, RetryLater), (429, RetryLater), (400, Park), (404, Park)]
)
async def test_status_decides_the_outcome(target: TargetServer, status: int, kind: type) -> None:
    target.default_status = status
    rest = connector(target.url)
    outcome = await rest.deliver(request())
    await rest.aclose()
    assert isinstance(outcome, kind)
    assert outcome.status_code == status


async def test_timeout_is_transient(target: TargetServer) -> None:
    target.delay_s = 1.0
    rest = connector(target.url, timeout={"connect": "1s", "total": "200ms"})
    outcome = await rest.deliver(request())
    await rest.aclose()
    assert isinstance(outcome, RetryLater)
    assert outcome.reason.startswith("timeout")


async def test_a_connect_timeout_says_so(unused_tcp_port: int) -> None:
    """A target whose listen queue is full never answers the handshake: the attempt's
    reason says the connection was not made (nothing was sent), not the total timeout."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", unused_tcp_port))
        server.listen(0)  # never accepted: after the queue's one or two, SYNs are dropped
        waiting = [socket.socket() for _ in range(3)]
        for client in waiting:  # fill the queue without waiting for the handshakes
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", unused_tcp_port))
        rest = connector(
            f"http://127.0.0.1:{unused_tcp_port}", timeout={"connect": "200ms", "total": "5s"}
        )
        outcome = await rest.deliver(request())
        await rest.aclose()
        for client in waiting:
            client.close()
    assert outcome == RetryLater("no connection within 0.2s")


async def test_connection_refused_is_transient(target: TargetServer) -> None:
    await target.stop()
    rest = connector(target.url)
    outcome = await rest.deliver(request())
    await rest.aclose()
    assert isinstance(outcome, RetryLater)
    assert "ClientConnectorError" in outcome.reason


async def test_auth_and_extra_headers(target: TargetServer) -> None:
    rest = connector(
        target.url,
        auth={"type": "basic", "username": "u", "password": "p"},
        headers={"X-Plant": "SH01"},
    )
    await rest.deliver(request())
    await rest.aclose()
    assert target.received[0].headers["authorization"] == "Basic dTpw"
    assert target.received[0].headers["x-plant"] == "SH01"


def test_config_refuses_unknown_options_and_bad_urls() -> None:
    with pytest.raises(ValueError, match="Extra inputs"):
        RestConfig.model_validate({"kind": "rest", "url": "http://x", "retries": 3})
    with pytest.raises(ValueError, match="should match pattern"):
        RestConfig.model_validate({"kind": "rest", "url": "ftp://x"})
