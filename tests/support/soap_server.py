"""A real SOAP 1.1 server standing in for the WMS pick service (``CreatePickRequest``).

It parses each request with the gateway's safe parser (no DTD, no entity, no network),
checks it against the WSDL's document/literal shape, records what it got, and answers
from a script: a proper response, a ``Client`` or ``Server`` fault, HTTP 500/503, or
hostile XML (XXE, billion laughs). ``delay_s`` holds every answer back (timeouts).
GET serves ``documents`` (e.g. a WSDL) and records every path asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections import deque
from dataclasses import dataclass, field
from typing import Literal
from xml.etree.ElementTree import canonicalize

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from esb.sdk import xml as xmlsafe
from tests.support.serving import Served

PICK_NS = "http://wms.demo-factory.example/pick"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ACTION = f'"{PICK_NS}/CreatePickRequest"'
PATH = "/wms/soap"
FIELDS = ("OrderNo", "CustomerCode", "Priority", "RequiredDate", "Lines")
LINE_FIELDS = ("Sku", "Qty", "Uom")

Answer = Literal[
    "ok", "client_fault", "server_fault", "http_500", "http_503", "xxe", "billion_laughs"
]


class Invalid(ValueError):
    """The request does not follow the WSDL; the server answers with a ``Client`` fault."""


def canonical(element: etree._Element) -> str:
    """C14N 2.0 of ``element`` with prefixes rewritten and whitespace-only text dropped:
    equal strings mean equal namespaces, element names, order and text."""
    return canonicalize(etree.tostring(element), strip_text=True, rewrite_prefixes=True)


@dataclass
class ReceivedPick:
    headers: dict[str, str]
    envelope: bytes
    request: etree._Element

    def canonical(self) -> str:
        return canonical(self.request)

    def text(self, name: str) -> str:
        return str(self.request.findtext(f"{{{PICK_NS}}}{name}"))


def _q(name: str) -> str:
    return f"{{{PICK_NS}}}{name}"


def _children(parent: etree._Element, names: tuple[str, ...]) -> None:
    got = [etree.QName(c).text for c in parent]
    if got != [_q(n) for n in names]:
        raise Invalid(f"{etree.QName(parent).localname} must hold {', '.join(names)}; got {got}")


def _check_values(pick: etree._Element, lines: etree._Element) -> None:
    try:
        int(pick.findtext(_q("Priority")) or "")
        dt.date.fromisoformat(pick.findtext(_q("RequiredDate")) or "")
        for line in lines:
            _children(line, LINE_FIELDS)
            int(line.findtext(_q("Qty")) or "")
    except ValueError as exc:
        raise Invalid(f"bad value: {exc}") from exc


def read_pick(headers: dict[str, str], body: bytes) -> etree._Element:
    """The CreatePickRequest element of a valid request, else :class:`Invalid`."""
    if not headers.get("content-type", "").startswith("text/xml"):
        raise Invalid(f"Content-Type must be text/xml, not {headers.get('content-type')}")
    if headers.get("soapaction") != SOAP_ACTION:
        raise Invalid(f"SOAPAction must be {SOAP_ACTION}, not {headers.get('soapaction')}")
    try:
        envelope = xmlsafe.parse(body)
    except xmlsafe.XmlRefused as exc:
        raise Invalid(str(exc)) from exc
    if envelope.tag != f"{{{SOAP11}}}Envelope":
        raise Invalid(f"not a SOAP 1.1 envelope: {envelope.tag}")
    payload = envelope.find(f"{{{SOAP11}}}Body")
    if payload is None or len(payload) != 1 or payload[0].tag != _q("CreatePickRequest"):
        raise Invalid(f"the Body must hold one {{{PICK_NS}}}CreatePickRequest")
    pick = payload[0]
    _children(pick, FIELDS)
    lines = pick.find(_q("Lines"))
    if lines is None or len(lines) == 0 or any(c.tag != _q("Line") for c in lines):
        raise Invalid("Lines must hold at least one Line")
    _check_values(pick, lines)
    return pick


def envelope(content: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soap": SOAP11})
    etree.SubElement(env, f"{{{SOAP11}}}Body").append(content)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


def fault(code: str, reason: str) -> Response:
    """A SOAP 1.1 fault (HTTP 500, as the spec says) with ``soap:<code>``."""
    node = etree.Element(f"{{{SOAP11}}}Fault", nsmap={"soap": SOAP11})
    etree.SubElement(node, "faultcode").text = f"soap:{code}"
    etree.SubElement(node, "faultstring").text = reason
    return Response(envelope(node), 500, media_type="text/xml; charset=utf-8")


def pick_response(pick: etree._Element) -> Response:
    answer = etree.Element(_q("CreatePickResponse"), nsmap={"p": PICK_NS})
    etree.SubElement(answer, _q("PickId")).text = f"PICK-{pick.findtext(_q('OrderNo'))}"
    etree.SubElement(answer, _q("Accepted")).text = "true"
    return Response(envelope(answer), 200, media_type="text/xml; charset=utf-8")


def hostile(dtd: str, reference: str) -> Response:
    """A 200 answer whose DTD tries to make the client expand ``reference``."""
    body = (
        f'<?xml version="1.0"?>\n<!DOCTYPE soap:Envelope [{dtd}]>\n'
        f'<soap:Envelope xmlns:soap="{SOAP11}"><soap:Body>'
        f'<p:CreatePickResponse xmlns:p="{PICK_NS}"><p:PickId>{reference}</p:PickId>'
        "<p:Accepted>true</p:Accepted></p:CreatePickResponse></soap:Body></soap:Envelope>"
    )
    return Response(body.encode(), 200, media_type="text/xml; charset=utf-8")


def billion_laughs_dtd() -> str:
    levels = ['<!ENTITY lol0 "lol">']
    levels += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return "".join(levels)


@dataclass
class SoapServer:
    """Scripted answers: ``script`` is consumed first, then ``default``."""

    default: Answer = "ok"
    script: deque[Answer] = field(default_factory=deque)
    delay_s: float = 0.0
    received: list[ReceivedPick] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    documents: dict[str, bytes] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)
    served: Served | None = None
    _port: int = 0
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(PATH, self._handle, methods=["POST"]),
                Route("/{path:path}", self._get, methods=["GET"]),
            ]
        )

    async def _get(self, request: Request) -> Response:
        self.fetched.append(request.url.path)
        content = self.documents.get(request.url.path)
        if content is None:
            return Response(b"not here", 404)
        return Response(content, 200, media_type="text/xml")

    async def _handle(self, request: Request) -> Response:
        headers, body = dict(request.headers), await request.body()
        try:
            pick = read_pick(headers, body)
        except Invalid as exc:
            self.refused.append(str(exc))
            return fault("Client", str(exc))
        self.received.append(ReceivedPick(headers, body, pick))
        self._arrived.set()
        if self.delay_s:  # held back, but let go at once when the server stops
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.delay_s)
        return self._answer(self.script.popleft() if self.script else self.default, pick)

    def _answer(self, answer: Answer, pick: etree._Element) -> Response:
        if answer == "client_fault":
            return fault("Client", "unknown customer code")
        if answer == "server_fault":
            return fault("Server", "pick database is busy")
        if answer in ("http_500", "http_503"):
            return Response(b"<html>unavailable</html>", int(answer[-3:]), media_type="text/html")
        if answer == "xxe":
            return hostile(f'<!ENTITY leak SYSTEM "{self.base_url}/leak">', "&leak;")
        if answer == "billion_laughs":
            return hostile(billion_laughs_dtd(), "&lol9;")
        return pick_response(pick)

    @property
    def base_url(self) -> str:
        """What ``WMS_URL`` would be: the operation is at ``base_url + "/wms/soap"``."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def address(self) -> str:
        return self.base_url + PATH

    async def start(self) -> SoapServer:
        self._stopping.clear()
        self.served = await Served(self.app(), self._port).start()
        self._port = self.served.port
        return self

    async def stop(self) -> None:
        """Go down: the port refuses connections until ``start`` again (same port)."""
        self._stopping.set()
        if self.served is not None:
            await self.served.stop()
            self.served = None

    async def wait_received(self, count: int) -> None:
        while len(self.received) < count:
            self._arrived.clear()
            await self._arrived.wait()
