"""SOAP answers of an endpoint: the operation's response, or a fault that says why.

Faults follow the envelope's version: SOAP 1.1 ``soap:Client``/``soap:Server`` with
HTTP 500; SOAP 1.2 ``Sender`` (HTTP 400) / ``Receiver`` (HTTP 500). A refused document
lists every offending field in the fault's detail, so a caller can fix its request:

    <esb:problems xmlns:esb="urn:esb:fault"><esb:problem field="status">...</esb:problem>
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from lxml import etree
from starlette.responses import Response

from esb.errors import FieldProblem

from .answer import SOAP12

__all__ = ["FAULT_NS", "Code", "fault"]

FAULT_NS = "urn:esb:fault"
Code = Literal["Client", "Server", "VersionMismatch"]
SOAP12_CODES = {"Client": "Sender", "Server": "Receiver", "VersionMismatch": "VersionMismatch"}


def _detail(parent: etree._Element, problems: Iterable[FieldProblem]) -> None:
    listed = etree.SubElement(parent, f"{{{FAULT_NS}}}problems", nsmap={"esb": FAULT_NS})
    for problem in problems:
        item = etree.SubElement(listed, f"{{{FAULT_NS}}}problem", field=problem.field)
        item.text = problem.message


def _fault11(ns: str, code: Code, reason: str, problems: list[FieldProblem]) -> etree._Element:
    node = etree.Element(f"{{{ns}}}Fault")
    etree.SubElement(node, "faultcode").text = f"soap:{code}"
    etree.SubElement(node, "faultstring").text = reason
    if problems:
        _detail(etree.SubElement(node, "detail"), problems)
    return node


def _fault12(ns: str, code: Code, reason: str, problems: list[FieldProblem]) -> etree._Element:
    node = etree.Element(f"{{{ns}}}Fault")
    value = etree.SubElement(etree.SubElement(node, f"{{{ns}}}Code"), f"{{{ns}}}Value")
    value.text = f"soap:{SOAP12_CODES[code]}"
    text = etree.SubElement(etree.SubElement(node, f"{{{ns}}}Reason"), f"{{{ns}}}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = reason
    if problems:
        _detail(etree.SubElement(node, f"{{{ns}}}Detail"), problems)
    return node


def fault(
    envelope_ns: str,
    code: Code,
    reason: str,
    problems: list[FieldProblem] | None = None,
    *,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A fault envelope in the given SOAP version; ``status`` overrides the usual one."""
    build = _fault12 if envelope_ns == SOAP12 else _fault11
    envelope = etree.Element(f"{{{envelope_ns}}}Envelope", nsmap={"soap": envelope_ns})
    body = etree.SubElement(envelope, f"{{{envelope_ns}}}Body")
    body.append(build(envelope_ns, code, reason[:1000], problems or []))
    usual = 400 if envelope_ns == SOAP12 and code == "Client" else 500
    media = "application/soap+xml" if envelope_ns == SOAP12 else "text/xml"
    return Response(
        etree.tostring(envelope, xml_declaration=True, encoding="utf-8"),
        status or usual,
        headers=headers,
        media_type=f"{media}; charset=utf-8",
    )
