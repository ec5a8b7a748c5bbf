"""The ``soap`` inbound source: an interface's own SOAP endpoint, served from a WSDL.

For systems that can only call a WebService. The gateway serves it at
``POST /inbound/{interface}/soap``. A request is read (bounded), parsed by
:mod:`esb_soap.xmlsafe`, its caller authenticated as the interface's source system,
its element validated against the WSDL's schema, then handed to the pipeline exactly
like an HTTP message: the interface's JSON Schema, routing, one transaction. Only then
is the operation's response sent, with the message id; anything refused gets a fault.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

import structlog
from lxml import etree
from starlette.requests import Request
from starlette.responses import Response

from esb.connectors import InboundConfig, InboundContext
from esb.errors import (
    FieldProblem,
    Forbidden,
    PayloadTooLarge,
    StoreUnavailable,
    Unauthenticated,
    ValidationFailed,
)
from esb.ingress import check_idempotency_key

from . import xmlsafe
from .answer import SOAP11
from .callers import KeyCheck, header_caller, token_caller
from .inbound_config import SoapEndpointConfig
from .replies import fault
from .service import NotTheOperation, ServedOperation, serve_operation
from .wsdl import ZEEP_DATA_ERRORS, WsdlInvalid

__all__ = ["SoapEndpoint"]

log = structlog.get_logger(__name__)
RETRY_AFTER_S = "5"
CHALLENGE = 'Basic realm="esb", Bearer realm="esb"'


class WrongVersion(ValueError):
    """The envelope is not of the SOAP version the WSDL's binding speaks."""


def _key_check(request: Request) -> KeyCheck:
    """The running gateway's key check (it follows configuration reloads)."""
    check: KeyCheck = request.app.state.gateway.config.authenticate
    return check


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"{declared} bytes, more than the {limit} allowed")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise PayloadTooLarge(f"more than the {limit} bytes allowed")
    return bytes(data)


def _envelope(data: bytes, served: ServedOperation, limit: int) -> etree._Element:
    envelope = xmlsafe.parse(data, max_bytes=limit)
    if envelope.tag != f"{{{served.envelope_ns}}}Envelope":
        found = etree.QName(envelope).namespace
        raise WrongVersion(f"expected a SOAP envelope in {served.envelope_ns}, not {found}")
    return envelope


class SoapEndpoint:
    kind: ClassVar[str] = "soap"
    Config: ClassVar[type[InboundConfig]] = SoapEndpointConfig

    def __init__(self, config: SoapEndpointConfig, context: InboundContext) -> None:
        self.config = config
        self.context = context
        self.path = (context.config_dir / Path(config.wsdl)).resolve()
        self._served: ServedOperation | None = None
        self._loading = asyncio.Lock()

    async def run(self) -> None:
        """Read the WSDL at once, so a broken one is reported at start; then just serve."""
        await self._operation()
        await asyncio.Event().wait()

    async def _operation(self) -> ServedOperation:
        async with self._loading:
            if self._served is None:
                self._served = await asyncio.to_thread(serve_operation, self.path, self.config)
            return self._served

    async def handle(self, request: Request) -> Response:
        try:
            served = await self._operation()
        except WsdlInvalid as exc:
            log.error(
                "SOAP endpoint cannot serve its WSDL",
                interface=self.context.interface,
                error=str(exc),
            )
            return fault(SOAP11, "Server", "this endpoint is not configured correctly")
        ns = served.envelope_ns
        try:
            return await self._answer(request, served)
        except Unauthenticated as exc:
            headers = {"WWW-Authenticate": CHALLENGE}
            return fault(ns, "Client", exc.message, status=401, headers=headers)
        except (Forbidden, PayloadTooLarge) as exc:
            return fault(ns, "Client", exc.message, status=exc.http_status)
        except ValidationFailed as exc:
            self._refused(exc.problems)
            return fault(ns, "Client", str(exc), exc.problems)
        except (xmlsafe.XmlRefused, NotTheOperation) as exc:
            return fault(ns, "Client", str(exc))
        except WrongVersion as exc:
            return fault(ns, "VersionMismatch", str(exc))
        except StoreUnavailable:
            reason = "the gateway cannot store messages right now; send again later"
            return fault(ns, "Server", reason, headers={"Retry-After": RETRY_AFTER_S})

    async def _answer(self, request: Request, served: ServedOperation) -> Response:
        check = _key_check(request)
        system = header_caller(request, self.config.auth, check)
        envelope = _envelope(
            await _read(request, self.config.max_request_bytes),
            served,
            self.config.max_request_bytes,
        )
        system = system or token_caller(envelope, served.envelope_ns, self.config.auth, check)
        if system != self.context.source_system:
            raise Forbidden(f"system {system!r} may not send {self.context.message_type!r}")
        payload = served.payload(envelope)
        if problems := served.problems(payload):
            raise ValidationFailed(problems)
        body = _read_fields(served, envelope)
        key = check_idempotency_key(request.headers.get("idempotency-key"))
        accepted = await self.context.accept(body, idempotency_key=key)
        content = served.reply(_values(accepted))
        if content is None:
            return Response(status_code=202)
        return Response(content, 200, media_type=served.content_type)

    def _refused(self, problems: list[FieldProblem]) -> None:
        fields = [p.field for p in problems]
        log.info("SOAP request refused", interface=self.context.interface, fields=fields)

    async def aclose(self) -> None:
        """Nothing to release: the WSDL is held in memory, requests come through the API."""


def _read_fields(served: ServedOperation, envelope: etree._Element) -> dict[str, Any]:
    try:
        return served.read(envelope)
    except ZEEP_DATA_ERRORS as exc:  # valid by the schema, yet zeep could not read it
        raise ValidationFailed([FieldProblem("", f"the request cannot be read: {exc}")]) from exc


def _values(accepted: Any) -> dict[str, Any]:
    duplicate = not accepted.created
    return {
        "message_id": str(accepted.message_id),
        "status": "duplicate" if duplicate else "accepted",
        "duplicate": duplicate,
    }
