# mypy: disallow-untyped-calls=False
# (zeep ships no type hints; its calls are wrapped here and typed at this edge)
"""Turn what a SOAP target answered into an outcome: the SOAP failure semantics live here.

A fault decides by its code (``Client``/``Sender`` park, ``Server``/``Receiver`` retry,
whatever the prefix); without a fault the HTTP status decides as for REST.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lxml import etree
from zeep.helpers import serialize_object

from esb.sdk import Delivered, Outcome, Park, RetryLater, xml

from .wsdl import ZEEP_DATA_ERRORS, BoundOperation

__all__ = ["SOAP11", "SOAP12", "Fault", "classify", "find_fault", "jsonable"]

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TRANSIENT_STATUS = frozenset({408, 425, 429})
TRANSIENT_FAULTS = frozenset({"Server", "Receiver"})


@dataclass(frozen=True)
class Fault:
    """A SOAP fault: ``code`` without its prefix (``Client``, ``Server.Busy``...)."""

    code: str
    reason: str

    @property
    def transient(self) -> bool:
        return self.code.split(".", 1)[0] in TRANSIENT_FAULTS

    def __str__(self) -> str:
        return f"SOAP fault {self.code}: {self.reason}"[:500]


def _text(element: etree._Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _local(qname: str) -> str:
    return qname.rpartition(":")[2]


def find_fault(envelope: etree._Element) -> Fault | None:
    """The fault in a SOAP 1.1 or 1.2 envelope, if there is one."""
    ns = etree.QName(envelope).namespace
    fault = envelope.find(f"{{{ns}}}Body/{{{ns}}}Fault")
    if fault is None:
        return None
    if ns == SOAP12:
        code = _text(fault.find(f"{{{ns}}}Code/{{{ns}}}Value"))
        return Fault(_local(code), _text(fault.find(f"{{{ns}}}Reason/{{{ns}}}Text")))
    return Fault(_local(_text(fault.find("faultcode"))), _text(fault.find("faultstring")))


def _envelope(data: bytes, limit: int) -> tuple[etree._Element | None, str]:
    """The answer's envelope, or ``None`` and why the answer is not one."""
    if not data.strip():
        return None, "empty answer"
    try:
        root = xml.parse(data, max_bytes=limit)
    except xml.XmlRefused as exc:
        return None, f"answer refused: {exc}"
    if root.tag not in (f"{{{SOAP11}}}Envelope", f"{{{SOAP12}}}Envelope"):
        return None, f"answer is not a SOAP envelope but <{etree.QName(root).localname}>"
    return root, ""


def jsonable(value: Any) -> Any:
    """What zeep read, as JSON values: dates as ISO text, decimals as exact text."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _detail(operation: BoundOperation, envelope: etree._Element) -> dict[str, Any] | None:
    """The answer's fields; a target that did the work but answered oddly is still delivered."""
    try:
        result = serialize_object(operation.read_reply(envelope), dict)
    except ZEEP_DATA_ERRORS as exc:
        return {"answer_error": f"the answer does not fit {operation.name}: {exc}"[:500]}
    if result is None:
        return None
    return jsonable(result) if isinstance(result, dict) else {"result": jsonable(result)}


def _excerpt(status: int, data: bytes) -> str:
    text = data[:300].decode("utf-8", "replace").strip()
    return f"HTTP {status}" + (f": {text}" if text else "")


def _by_status(status: int, data: bytes) -> Outcome:
    if status in TRANSIENT_STATUS or status >= 500:
        return RetryLater(_excerpt(status, data), status)
    return Park(_excerpt(status, data), status)


def classify(operation: BoundOperation, status: int, data: bytes, limit: int) -> Outcome:
    """The outcome of one call that got an HTTP answer."""
    envelope, problem = _envelope(data, limit)
    fault = find_fault(envelope) if envelope is not None else None
    if fault is not None:
        return RetryLater(str(fault), status) if fault.transient else Park(str(fault), status)
    if not 200 <= status < 300:
        return _by_status(status, data)
    if envelope is None:
        return Delivered(status) if problem == "empty answer" else Park(problem, status)
    return Delivered(status, _detail(operation, envelope))
