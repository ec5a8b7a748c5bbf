"""The test SOAP server itself: it checks what it gets and parses it safely."""

from __future__ import annotations

import httpx

from tests.support.soap_server import PICK_NS, SOAP11, SOAP_ACTION, SoapServer

HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": SOAP_ACTION}


def envelope(inner: str, prolog: str = "") -> bytes:
    return (
        f'{prolog}<s:Envelope xmlns:s="{SOAP11}"><s:Body>'
        f'<p:CreatePickRequest xmlns:p="{PICK_NS}">{inner}</p:CreatePickRequest>'
        "</s:Body></s:Envelope>"
    ).encode()


VALID = (
    "<p:OrderNo>SO-1</p:OrderNo><p:CustomerCode>C</p:CustomerCode><p:Priority>1</p:Priority>"
    "<p:RequiredDate>2026-11-26</p:RequiredDate>"
    "<p:Lines><p:Line><p:Sku>S</p:Sku><p:Qty>4</p:Qty><p:Uom>EA</p:Uom></p:Line></p:Lines>"
)


async def post(server: SoapServer, body: bytes, headers: dict[str, str] = HEADERS) -> str:
    async with httpx.AsyncClient() as client:
        response = await client.post(server.address, content=body, headers=headers)
    return f"{response.status_code} {response.text}"


async def test_a_valid_request_is_recorded_and_answered(soap_server: SoapServer) -> None:
    answer = await post(soap_server, envelope(VALID))
    assert answer.startswith("200 ")
    assert "<p:PickId>PICK-SO-1</p:PickId>" in answer
    assert soap_server.received[0].text("OrderNo") == "SO-1"


async def test_requests_off_the_wsdl_get_a_client_fault(soap_server: SoapServer) -> None:
    cases = [
        (envelope(VALID), {"Content-Type": "text/xml"}, "SOAPAction must be"),
        (envelope(VALID.replace("OrderNo", "OrderNumber")), HEADERS, "must hold OrderNo"),
        (envelope(VALID.replace(">4<", ">four<")), HEADERS, "bad value"),
        (envelope(VALID.replace("2026-11-26", "26.11.2026")), HEADERS, "bad value"),
        (envelope(VALID).replace(SOAP11.encode(), b"urn:other"), HEADERS, "not a SOAP 1.1"),
    ]
    for body, headers, says in cases:
        answer = await post(soap_server, body, headers)
        assert answer.startswith("500 ")
        assert "<faultcode>soap:Client</faultcode>" in answer
        assert says in soap_server.refused[-1]
    assert soap_server.received == []


async def test_xxe_sent_to_the_server_is_refused_unexpanded(soap_server: SoapServer) -> None:
    prolog = f'<!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "{soap_server.base_url}/leak">]>'
    answer = await post(soap_server, envelope(VALID.replace("SO-1", "&x;"), prolog))
    assert "<faultcode>soap:Client</faultcode>" in answer
    assert "DTD" in soap_server.refused[0]
    assert soap_server.fetched == []
