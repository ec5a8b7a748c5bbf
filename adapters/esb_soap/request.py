"""One SOAP request read into a message body, off the event loop.

Everything whose cost grows with the request runs here, on a worker thread: both XML
passes, the shape limits (elements, attributes and nesting, counted in C before
anything looks at the content), a UsernameToken, the WSDL's schema and zeep's reading.
A request within ``max_request_bytes`` thus costs bounded work, and none of it holds
up the other requests the gateway is answering meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from esb.sdk import (
    MAX_DEPTH,
    FieldProblem,
    Forbidden,
    KeyCheck,
    PluginError,
    ValidationFailed,
    shorten,
    xml,
)

from .callers import token_caller
from .inbound_config import SoapEndpointConfig
from .service import ServedOperation
from .wsdl import ZEEP_DATA_ERRORS

__all__ = ["Document", "SchemaProblems", "WrongVersion", "read_request"]

ENVELOPE_LEVELS = 2  # Envelope and Body above the request element


class WrongVersion(PluginError, ValueError):
    """The envelope is not of the SOAP version the WSDL's binding speaks."""


class SchemaProblems(PluginError):
    """The request element does not fit the WSDL's schema: the first problems, and how
    many there are in all."""

    def __init__(self, problems: list[FieldProblem], total: int) -> None:
        super().__init__(f"{total} problems")
        self.problems = problems
        self.total = total


@dataclass(frozen=True)
class Document:
    system: str  # the caller, proven
    body: dict[str, Any]  # the request's fields, typed as the schema says


def _envelope(data: bytes, served: ServedOperation, config: SoapEndpointConfig) -> etree._Element:
    envelope = xml.parse(data, max_bytes=config.max_request_bytes)
    if envelope.tag != f"{{{served.envelope_ns}}}Envelope":
        found = etree.QName(envelope).namespace
        raise WrongVersion(f"expected a SOAP envelope in {served.envelope_ns}, not {found}")
    shape = xml.Shape(config.max_elements, config.max_attributes, MAX_DEPTH + ENVELOPE_LEVELS)
    try:
        xml.check_shape(envelope, shape)
    except xml.XmlTooDeep as exc:
        field = ".".join(exc.path[ENVELOPE_LEVELS + 1 :])
        problem = FieldProblem(shorten(field), f"is nested deeper than {MAX_DEPTH} levels")
        raise ValidationFailed([problem]) from exc
    return envelope


def _read_fields(served: ServedOperation, envelope: etree._Element) -> dict[str, Any]:
    try:
        return served.read(envelope)
    except ZEEP_DATA_ERRORS as exc:  # valid by the schema, yet zeep could not read it
        message = shorten(f"the request cannot be read: {exc}")
        raise ValidationFailed([FieldProblem("", message)]) from exc
    except RecursionError as exc:  # a recursive schema, nested within the limits
        raise ValidationFailed([FieldProblem("", "the request is nested too deep")]) from exc


def read_request(
    data: bytes,
    served: ServedOperation,
    config: SoapEndpointConfig,
    allowed: tuple[str, str],
    *,
    caller: str | None,
    check: KeyCheck,
) -> Document:
    """The request's caller and fields, or the error that refuses it; ``allowed`` is the
    interface's source system and message type. Blocking."""
    envelope = _envelope(data, served, config)
    system = caller or token_caller(envelope, served.envelope_ns, config.auth, check)
    source, message_type = allowed
    if system != source:
        raise Forbidden(f"system {system!r} may not send {message_type!r}")
    problems, total = served.verdict(served.payload(envelope))
    if total:
        raise SchemaProblems(problems, total)
    return Document(system, _read_fields(served, envelope))
