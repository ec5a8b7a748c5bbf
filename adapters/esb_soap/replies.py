"""SOAP answers of an endpoint: the operation's response, or a fault that says why.

Faults follow the envelope's version: SOAP 1.1 ``soap:Client``/``soap:Server`` with
HTTP 500; SOAP 1.2 ``Sender`` (HTTP 400) / ``Receiver`` (HTTP 500). A refused document
lists its offending fields in the fault's detail, so a caller can fix its request:

    <esb:problems xmlns:esb="urn:esb:fault" total="2"><esb:problem field="status">...

Whatever the request did, a fault stays small: at most ``MAX_LISTED`` problems, each
field and message shortened, ``total`` saying how many there were in all, and a
``faultstring`` of at most ``MAX_REASON`` characters.
"""

from __future__ import annotations

from typing import Literal

from lxml import etree
from starlette.responses import Response

from esb.sdk import MAX_LISTED, FieldProblem, more, shorten

from .answer import SOAP12

__all__ = ["FAULT_NS", "Code", "fault", "summary"]

FAULT_NS = "urn:esb:fault"
MAX_REASON = 1000
IN_SUMMARY = 3  # problems named in the faultstring (the detail lists more)
Code = Literal["Client", "Server", "VersionMismatch"]
SOAP12_CODES = {"Client": "Sender", "Server": "Receiver", "VersionMismatch": "VersionMismatch"}


def summary(problems: list[FieldProblem], total: int | None = None) -> str:
    """The faultstring for refused fields: the first few, short, and how many more."""
    total = len(problems) if total is None else total
    named = [
        f"{shorten(p.field or '(body)', 80)}: {shorten(p.message, 150)}"
        for p in problems[:IN_SUMMARY]
    ]
    return "; ".join(named) + more(len(named), total)


def _detail(parent: etree._Element, problems: list[FieldProblem], total: int) -> None:
    listed = etree.SubElement(
        parent, f"{{{FAULT_NS}}}problems", nsmap={"esb": FAULT_NS}, total=str(total)
    )
    for problem in problems[:MAX_LISTED]:
        item = etree.SubElement(listed, f"{{{FAULT_NS}}}problem", field=shorten(problem.field))
        item.text = shorten(problem.message)


Problems = tuple[list[FieldProblem], int]


def _fault11(ns: str, code: Code, reason: str, problems: Problems) -> etree._Element:
    node = etree.Element(f"{{{ns}}}Fault")
    etree.SubElement(node, "faultcode").text = f"soap:{code}"
    etree.SubElement(node, "faultstring").text = reason
    if problems[0]:
        _detail(etree.SubElement(node, "detail"), *problems)
    return node


def _fault12(ns: str, code: Code, reason: str, problems: Problems) -> etree._Element:
    node = etree.Element(f"{{{ns}}}Fault")
    value = etree.SubElement(etree.SubElement(node, f"{{{ns}}}Code"), f"{{{ns}}}Value")
    value.text = f"soap:{SOAP12_CODES[code]}"
    text = etree.SubElement(etree.SubElement(node, f"{{{ns}}}Reason"), f"{{{ns}}}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = reason
    if problems[0]:
        _detail(etree.SubElement(node, f"{{{ns}}}Detail"), *problems)
    return node


def fault(
    envelope_ns: str,
    code: Code,
    reason: str,
    problems: list[FieldProblem] | None = None,
    *,
    total: int | None = None,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A fault envelope in the given SOAP version; ``status`` overrides the usual one.
    ``total`` is how many problems there were when ``problems`` holds only the first."""
    build = _fault12 if envelope_ns == SOAP12 else _fault11
    envelope = etree.Element(f"{{{envelope_ns}}}Envelope", nsmap={"soap": envelope_ns})
    body = etree.SubElement(envelope, f"{{{envelope_ns}}}Body")
    listed = problems or []
    counted = len(listed) if total is None else total
    body.append(build(envelope_ns, code, shorten(reason, MAX_REASON), (listed, counted)))
    usual = 400 if envelope_ns == SOAP12 and code == "Client" else 500
    media = "application/soap+xml" if envelope_ns == SOAP12 else "text/xml"
    return Response(
        etree.tostring(envelope, xml_declaration=True, encoding="utf-8"),
        status or usual,
        headers=headers,
        media_type=f"{media}; charset=utf-8",
    )
