# mypy: disallow-untyped-calls=False
# (zeep ships no type hints; its calls are wrapped here and typed at this edge)
"""One document/literal operation of a WSDL, served: read a request, build the response.

The request element is checked against the WSDL's XML Schema by lxml (every field,
before anything else happens), then zeep reads it into plain data the pipeline takes.
The response element is built by zeep from ``response`` (message id, status...), and
checked at load time against the same schema, so a configuration whose answer would
not fit the WSDL is refused before the first call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zeep
from lxml import etree
from zeep.helpers import serialize_object
from zeep.wsdl.bindings.soap import Soap12Binding
from zeep.wsdl.messages.soap import DocumentMessage

from esb.sdk import FieldProblem, PluginError, xml

from .answer import SOAP11, SOAP12, jsonable
from .inbound_config import ResponseValue, SoapEndpointConfig
from .wsdl import (
    ZEEP_DATA_ERRORS,
    PinnedTransport,
    WsdlInvalid,
    find_port,
    read_wsdl_file,
    zeep_settings,
)
from .xsd import field_problems, verdict, wsdl_schema

__all__ = ["NotTheOperation", "ServedOperation", "serve_operation"]

SAMPLE = {
    "message_id": "00000000-0000-0000-0000-000000000000",
    "status": "accepted",
    "duplicate": False,
}


class NotTheOperation(PluginError, ValueError):
    """The envelope is not a request for the served operation (a Client fault)."""


@dataclass(frozen=True)
class ServedOperation:
    operation: Any  # zeep's SoapOperation
    schema: etree.XMLSchema
    envelope_ns: str  # SOAP11 or SOAP12
    request: str  # the request element, {namespace}name
    response: Mapping[str, ResponseValue]

    @property
    def content_type(self) -> str:
        media = "application/soap+xml" if self.envelope_ns == SOAP12 else "text/xml"
        return f"{media}; charset=utf-8"

    def payload(self, envelope: etree._Element) -> etree._Element:
        """The request element, the only child of the Body."""
        body = envelope.find(f"{{{self.envelope_ns}}}Body")
        children = [c for c in body if isinstance(c.tag, str)] if body is not None else []
        if len(children) != 1 or children[0].tag != self.request:
            raise NotTheOperation(f"the Body must hold one {self.request} element")
        return children[0]

    def problems(self, payload: etree._Element) -> list[FieldProblem]:
        return field_problems(self.schema, payload)

    def verdict(self, payload: etree._Element) -> tuple[list[FieldProblem], int]:
        """The first problems of the request element, and how many there are in all."""
        return verdict(self.schema, payload)

    def read(self, envelope: etree._Element) -> dict[str, Any]:
        """The request's fields as JSON values (typed as the schema says)."""
        value = serialize_object(self.operation.input.deserialize(envelope), dict)
        data = jsonable(value)
        return data if isinstance(data, dict) else {"value": data}

    def reply(self, values: Mapping[str, Any]) -> bytes | None:
        """The response envelope; None for a one-way operation (answered 202, empty)."""
        if self.operation.output is None:
            return None
        fields = {name: values[source] for name, source in self.response.items()}
        envelope = self.operation.output.serialize(**fields).content
        return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def _client(path: Path) -> tuple[zeep.Client, etree._Element]:
    content = read_wsdl_file(str(path))
    try:
        root = xml.parse(content)
    except xml.XmlRefused as exc:
        raise WsdlInvalid(f"{path}: {exc}") from exc
    transport = PinnedTransport({str(path): content}, path.parent)
    try:
        return zeep.Client(str(path), transport=transport, settings=zeep_settings()), root
    except (*ZEEP_DATA_ERRORS, etree.LxmlError) as exc:
        raise WsdlInvalid(f"cannot read the WSDL {path}: {exc}") from exc


def _document_literal(port: Any, name: str) -> Any:
    try:
        operation = port.binding.get(name)
    except ValueError as exc:
        raise WsdlInvalid(
            f"WSDL has no operation {name}; it has {sorted(port.binding.all())}"
        ) from exc
    if operation.style != "document" or not isinstance(operation.input, DocumentMessage):
        raise WsdlInvalid(f"{name} is not a document/literal operation: only those are served")
    if getattr(operation.input.body, "qname", None) is None:
        raise WsdlInvalid(f"{name}: its input is not one element (document/literal wrapped)")
    return operation


def _check_reply(served: ServedOperation) -> None:
    """Build a sample answer now, so a ``response`` that does not fit fails at load time."""
    try:
        sample = served.reply(SAMPLE)
    except (*ZEEP_DATA_ERRORS, KeyError) as exc:
        raise WsdlInvalid(f"`response` does not fit {served.operation.name}: {exc}") from exc
    if sample is None:
        return
    answer = served.operation.output.body
    element = etree.fromstring(sample).find(f"{{{served.envelope_ns}}}Body/{answer.qname}")
    if element is None or (problems := served.problems(element)):
        wrong = (
            "; ".join(f"{p.field}: {p.message}" for p in problems) if element is not None else ""
        )
        raise WsdlInvalid(f"`response` gives an answer the WSDL does not allow: {wrong}")


def serve_operation(path: Path, config: SoapEndpointConfig) -> ServedOperation:
    """Read the WSDL at ``path`` and prepare ``config.operation``; WsdlInvalid if it cannot."""
    client, root = _client(path)
    port = find_port(client, config.service, config.port)
    operation = _document_literal(port, config.operation)
    soap12 = isinstance(port.binding, Soap12Binding)
    served = ServedOperation(
        operation=operation,
        schema=wsdl_schema(root, path.parent),
        envelope_ns=SOAP12 if soap12 else SOAP11,
        request=operation.input.body.qname.text,
        response=config.response,
    )
    _check_reply(served)
    return served
