"""The ``soap`` inbound source: an interface's own SOAP endpoint, served from a WSDL.

For systems that can only call a WebService. The gateway serves it at
``POST /inbound/{interface}/soap``. A request is read (bounded), then parsed by
:mod:`esb.sdk.xml`, bounded in shape, its caller authenticated as the interface's
source system (``context.authenticate``) and its element validated against the
WSDL's schema, all on a worker thread (:mod:`esb_soap.request`); then it is handed to
the pipeline exactly like an HTTP message (``context.accept``): the interface's JSON
Schema, the door's limits, routing, one transaction. Only then is the operation's
response sent, with the message id; anything refused gets a fault, and every fault
and log line stays small.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import structlog
from starlette.requests import Request
from starlette.responses import Response

from esb.sdk import (
    MAX_LISTED,
    EsbError,
    FieldProblem,
    Forbidden,
    InboundConfig,
    PayloadTooLarge,
    SourceContext,
    StoreUnavailable,
    Unauthenticated,
    ValidationFailed,
    read_body,
    shorten,
    xml,
)

from .answer import SOAP11
from .callers import header_caller
from .inbound_config import SoapEndpointConfig
from .replies import fault, summary
from .request import Document, SchemaProblems, WrongVersion, read_request
from .service import NotTheOperation, ServedOperation, serve_operation
from .wsdl import WsdlInvalid

__all__ = ["SoapEndpoint"]

log = structlog.get_logger(__name__)
RETRY_AFTER_S = "5"
CHALLENGE = 'Basic realm="esb", Bearer realm="esb"'
#: Requests read at once per endpoint; more wait their turn without holding the loop.
READERS = 2
T = TypeVar("T")


def _client_error(exc: BaseException) -> bool:
    """An error of the pipeline that is the request's fault (4xx), e.g. a value refused."""
    status = getattr(exc, "http_status", 500)
    return isinstance(exc, EsbError) and isinstance(status, int) and 400 <= status < 500


class SoapEndpoint:
    Config: ClassVar[type[InboundConfig]] = SoapEndpointConfig

    def __init__(self, config: SoapEndpointConfig, context: SourceContext) -> None:
        self.config = config
        self.context = context
        self.path = (context.config_dir / Path(config.wsdl)).resolve()
        self._served: ServedOperation | None = None
        self._loading = asyncio.Lock()
        self._readers = ThreadPoolExecutor(READERS, thread_name_prefix=f"soap-{context.interface}")

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
                error=shorten(str(exc), 1000),
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
        except SchemaProblems as exc:
            return self._refused(ns, exc.problems, exc.total)
        except ValidationFailed as exc:
            return self._refused(ns, exc.problems, len(exc.problems))
        except (xml.XmlRefused, NotTheOperation) as exc:
            return fault(ns, "Client", str(exc))
        except WrongVersion as exc:
            return fault(ns, "VersionMismatch", str(exc))
        except StoreUnavailable:
            reason = "the gateway cannot store messages right now; send again later"
            return fault(ns, "Server", reason, headers={"Retry-After": RETRY_AFTER_S})
        except EsbError as exc:
            if not _client_error(exc):
                raise
            field = getattr(exc, "field", None) or ""
            return self._refused(ns, [FieldProblem(field, str(exc))], 1)

    async def _answer(self, request: Request, served: ServedOperation) -> Response:
        check = self.context.authenticate
        caller = header_caller(request, self.config.auth, check)
        data = await read_body(request, self.config.max_request_bytes)
        allowed = (self.context.source_system, self.context.message_type)
        read = functools.partial(
            read_request, data, served, self.config, allowed, caller=caller, check=check
        )
        document: Document = await self._in_thread(read)
        key = self.context.check_idempotency_key(request.headers.get("idempotency-key"))
        accepted = await self.context.accept(document.body, idempotency_key=key)
        content = served.reply(_values(accepted))
        if content is None:
            return Response(status_code=202)
        return Response(content, 200, media_type=served.content_type)

    async def _in_thread(self, work: functools.partial[T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._readers, work)

    def _refused(self, ns: str, problems: list[FieldProblem], total: int) -> Response:
        fields = [shorten(p.field, 100) for p in problems[:MAX_LISTED]]
        log.info(
            "SOAP request refused",
            interface=self.context.interface,
            fields=fields,
            problems=total,
        )
        return fault(ns, "Client", summary(problems, total), problems, total=total)

    async def aclose(self) -> None:
        """Let the reading threads go; a request still in one finishes on its own."""
        self._readers.shutdown(wait=False, cancel_futures=True)


def _values(accepted: Any) -> dict[str, Any]:
    duplicate = not accepted.created
    return {
        "message_id": str(accepted.message_id),
        "status": "duplicate" if duplicate else "accepted",
        "duplicate": duplicate,
    }
