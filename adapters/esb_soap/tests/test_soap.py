"""The SOAP connector against a real SOAP server: the scenario vector, each outcome, cleanup."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from lxml import etree

from esb.connectors import (
    ConnectorContext,
    Delivered,
    DeliveryRequest,
    Outcome,
    Park,
    RetryLater,
)
from esb_soap import SoapConfig, SoapConnector
from tests.support.soap_server import SoapServer, canonical

from .conftest import SCENARIO

URGENT = {
    "OrderNo": "SO-20261124-0002",
    "CustomerCode": "CUST-02",
    "Priority": 1,
    "RequiredDate": "2026-11-26",
    "Lines": {"Line": [{"Sku": "SKU1001", "Qty": 40, "Uom": "EA"}]},
}
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def connector(address: str, config_dir: Path = SCENARIO, **options: Any) -> SoapConnector:
    config = SoapConfig.model_validate(
        {
            "kind": "soap",
            "wsdl": "wsdl/wms_pick.wsdl",
            "operation": "CreatePickRequest",
            "address": address,
            **options,
        }
    )
    return SoapConnector(config, ConnectorContext(config_dir, "wms", "sales-order"))


def request(body: Any = None) -> DeliveryRequest:
    return DeliveryRequest(
        uuid4(),
        uuid4(),
        "sales-order",
        "wms",
        "sales_order",
        "SO-20261124-0002",
        1,
        URGENT if body is None else body,
    )


async def deliver(soap: SoapConnector, req: DeliveryRequest | None = None) -> Outcome:
    try:
        return await soap.deliver(req or request())
    finally:
        await soap.aclose()


async def test_urgent_order_reaches_wms_as_the_scenario_says(soap_server: SoapServer) -> None:
    req = request()
    outcome = await deliver(connector(soap_server.address), req)
    assert outcome == Delivered(200, {"PickId": "PICK-SO-20261124-0002", "Accepted": True})
    [got] = soap_server.received
    expected = etree.parse(str(SCENARIO / "expected" / "wms_pick_request_urgent.xml")).getroot()
    assert got.canonical() == canonical(expected)
    assert got.headers["idempotency-key"] == f"{req.message_id}:wms"
    assert got.headers["x-esb-attempt"] == "1"


async def test_decimals_from_the_mapping_are_sent_as_written(soap_server: SoapServer) -> None:
    body = {
        **URGENT,
        "Priority": Decimal("1"),
        "Lines": {"Line": [{"Sku": "SKU1001", "Qty": Decimal("40"), "Uom": "EA"}]},
    }
    outcome = await deliver(connector(soap_server.address), request(body))
    assert isinstance(outcome, Delivered)
    assert soap_server.received[0].canonical() == canonical(
        etree.parse(str(SCENARIO / "expected" / "wms_pick_request_urgent.xml")).getroot()
    )


@pytest.mark.parametrize(
    ("answer", "kind", "says"),
    [
        ("client_fault", Park, "SOAP fault Client: unknown customer code"),
        ("server_fault", RetryLater, "SOAP fault Server: pick database is busy"),
        ("http_500", RetryLater, "HTTP 500"),
        ("http_503", RetryLater, "HTTP 503"),
    ],
)
async def test_faults_and_statuses_decide_the_outcome(
    soap_server: SoapServer, answer: Any, kind: type, says: str
) -> None:
    soap_server.default = answer
    outcome = await deliver(connector(soap_server.address))
    assert isinstance(outcome, kind)
    assert isinstance(outcome, RetryLater | Park)
    assert outcome.reason.startswith(says)
    assert outcome.status_code == (int(answer[-3:]) if answer.startswith("http") else 500)


async def test_other_http_4xx_parks(soap_server: SoapServer) -> None:
    outcome = await deliver(connector(soap_server.base_url + "/no-such-endpoint"))
    assert isinstance(outcome, Park)
    assert outcome.status_code == 405


async def test_timeout_is_transient_and_bounded_by_the_configured_total(
    soap_server: SoapServer,
) -> None:
    soap_server.delay_s = 5.0
    started = time.monotonic()
    outcome = await deliver(connector(soap_server.address, timeout={"total": "300ms"}))
    assert isinstance(outcome, RetryLater)
    assert outcome.reason.startswith("timeout after 0.3s")
    assert time.monotonic() - started < 4  # not the server's 5 s, with room for a loaded machine


async def test_connection_refused_is_transient(soap_server: SoapServer) -> None:
    await soap_server.stop()
    outcome = await deliver(connector(soap_server.address))
    assert isinstance(outcome, RetryLater)
    assert "ConnectError" in outcome.reason


async def test_a_body_that_does_not_fit_the_operation_parks_unsent(
    soap_server: SoapServer,
) -> None:
    outcome = await deliver(connector(soap_server.address), request({**URGENT, "Colour": "red"}))
    assert isinstance(outcome, Park)
    assert "Colour" in outcome.reason
    assert soap_server.received == []
    outcome = await deliver(connector(soap_server.address), request(["not", "an", "object"]))
    assert isinstance(outcome, Park)
    assert "not an object" in outcome.reason
    outcome = await deliver(connector(soap_server.address), request({**URGENT, "RequiredDate": 5}))
    assert isinstance(outcome, Park)
    assert "does not fit CreatePickRequest" in outcome.reason


async def test_username_token_and_http_auth_are_sent(soap_server: SoapServer) -> None:
    soap = connector(
        soap_server.address,
        wsse={"username": "gateway", "password": "s3cret"},
        auth={"type": "header", "name": "X-Api-Key", "value": "k1"},
    )
    assert isinstance(await deliver(soap), Delivered)
    got = soap_server.received[0]
    envelope = etree.fromstring(got.envelope)
    assert envelope.findtext(f".//{{{WSSE}}}Username") == "gateway"
    assert envelope.findtext(f".//{{{WSSE}}}Password") == "s3cret"
    assert got.headers["x-api-key"] == "k1"


@pytest.mark.parametrize("answer", ["xxe", "billion_laughs"])
async def test_hostile_answers_are_refused_without_expansion(
    soap_server: SoapServer, answer: Any
) -> None:
    soap_server.default = answer
    started = time.monotonic()
    outcome = await deliver(connector(soap_server.address))
    assert isinstance(outcome, Park)
    assert outcome.reason.startswith("answer refused: a DTD")
    assert "lol" not in outcome.reason.replace("lolz", "")
    assert time.monotonic() - started < 5  # an expanded answer would take minutes
    assert soap_server.fetched == []  # the XXE entity pointed here: never fetched


async def test_an_oversized_answer_is_refused(soap_server: SoapServer) -> None:
    body = {**URGENT, "OrderNo": "X" * 2000}
    outcome = await deliver(connector(soap_server.address, max_response_bytes=1024), request(body))
    assert outcome == Park("answer longer than 1024 bytes: refused")


async def test_aclose_releases_the_pooled_client(soap_server: SoapServer) -> None:
    soap = connector(soap_server.address)
    await soap.deliver(request())
    await soap.aclose()
    assert soap._client.is_closed


def test_config_refuses_unknown_options_and_bad_addresses() -> None:
    base = {"kind": "soap", "wsdl": "x.wsdl", "operation": "Op"}
    with pytest.raises(ValueError, match="Extra inputs"):
        SoapConfig.model_validate({**base, "retries": 3})
    with pytest.raises(ValueError, match="should match pattern"):
        SoapConfig.model_validate({**base, "address": "ftp://wms"})
    with pytest.raises(ValueError, match="Extra inputs"):
        SoapConfig.model_validate({**base, "wsse": {"username": "u", "password": "p", "x": 1}})
