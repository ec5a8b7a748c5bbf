"""Accepting a message: who may send it, is it well-formed, where does it go, store it once.

The HTTP layer only moves bytes; every decision about a message is made here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from esb.config.gateway import GatewayConfig
from esb.errors import FieldProblem, UnsupportedMediaType, ValidationFailed
from esb.limits import MAX_IDEMPOTENCY_KEY, MAX_INT, check_document
from esb.store.accept import Accepted, NewMessage


def _by_value(value: Any) -> Any:
    """A number by its value: ``10.0`` is written as ``10`` (RFC 8785 compares values)."""
    if isinstance(value, dict):
        return {key: _by_value(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_by_value(child) for child in value]
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_INT:
        return int(value)
    return value


#: Leaves that cannot be a float: skipped without a call.
_SCALARS = (str, int, bool, type(None))


def _has_whole_float(value: Any) -> bool:
    """Whether ``_by_value`` would change anything (most documents: no), without copying."""
    kind = type(value)
    if kind is float:
        return bool(value.is_integer())
    if kind is dict:
        value = value.values()
    elif kind is not list:
        return False
    for child in value:
        kind = type(child)
        if kind in _SCALARS:
            continue
        if kind is float:
            if child.is_integer():
                return True
        elif _has_whole_float(child):
            return True
    return False


def canonical_hash(body: Any) -> str:
    """The same document hashes the same whatever its key order, spacing or number
    spelling (``10`` and ``10.0``); a different document never does. The body must have
    passed ``check_document`` (numbers within 64 bits, bounded nesting)."""
    if _has_whole_float(body):
        body = _by_value(body)
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def check_json_content_type(content_type: str | None) -> None:
    media = (content_type or "application/json").split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType(f"send the body as application/json, not {media!r}")


def parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed(
            [FieldProblem("", f"body is not valid JSON: {exc}")], code="malformed_json"
        ) from exc


def check_idempotency_key(header: str | None) -> str | None:
    if header is None:
        return None
    key = header.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise ValidationFailed(
            [FieldProblem("Idempotency-Key", f"1 to {MAX_IDEMPOTENCY_KEY} printable characters")],
            code="bad_idempotency_key",
        )
    return "key:" + key


async def _nothing(interface: str, refused: Sequence[ValidationFailed]) -> None:
    """No one is told of refusals (tools and tests that build an ``Ingress`` alone)."""


@dataclass
class Ingress:
    """The one way into the pipeline, whatever the transport (HTTP, file drop, SOAP)."""

    store: Callable[[NewMessage], Awaitable[Accepted]]  # the group-committed accept
    #: the same for many documents at once, one answer each (an error fails its own alone)
    store_many: Callable[[Sequence[NewMessage]], Awaitable[list[Accepted | Exception]]]
    config: Callable[[], GatewayConfig]  # the current configuration (it can be reloaded)
    notify: Callable[[], None]
    #: metrics: ``n`` more accepted for an interface
    counted: Callable[[str, int], None] = lambda interface, n: None
    #: told of the documents refused at the door (422) for an interface, before the
    #: caller hears of it (the value report counts them); it never raises
    refused: Callable[[str, Sequence[ValidationFailed]], Awaitable[None]] = _nothing

    async def accept(
        self,
        caller: str,
        message_type: str,
        raw: bytes,
        content_type: str | None,
        idempotency_header: str | None,
    ) -> Accepted:
        """An HTTP body: who may send it, is it JSON, then ``accept_document``."""
        interface, _ = self.config().interface_for(caller, message_type)
        check_json_content_type(content_type)
        try:
            idempotency_key = check_idempotency_key(idempotency_header)
            body = parse_json(raw)
            return await self._accept(interface, body, raw.decode("utf-8"), idempotency_key)
        except ValidationFailed as exc:
            await self.refused(interface, [exc])
            raise

    async def accept_document(
        self,
        interface: str,
        body: Any,
        *,
        text: str | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        """A parsed document for ``interface``: schema, routing, one transaction.

        ``text`` is the body as received (kept verbatim); without it the body is
        stored as compact JSON. Without an ``idempotency_key`` the canonical-body hash
        is used, so a repeat of the same document is the same message.
        """
        try:
            return await self._accept(interface, body, text, idempotency_key)
        except ValidationFailed as exc:
            await self.refused(interface, [exc])
            raise

    async def _accept(
        self, interface: str, body: Any, text: str | None, idempotency_key: str | None
    ) -> Accepted:
        new = self._message(self.config(), interface, body, text, idempotency_key)
        return self._answered(new, await self.store(new))

    async def accept_documents(
        self, interface: str, documents: Sequence[tuple[Any, str | None]]
    ) -> list[Accepted | Exception]:
        """``accept_document`` for a page of documents (a staging table's rows): each is
        checked alone, the valid ones are stored as one batch, and every document gets its
        own answer in order, an ``Accepted`` or the error ``accept_document`` would raise."""
        config = self.config()
        answers: list[Accepted | Exception | None] = []
        news: list[NewMessage] = []
        for body, key in documents:
            try:
                news.append(self._message(config, interface, body, None, key))
                answers.append(None)
            except Exception as exc:  # the document's fault, or a bug: its answer alone
                answers.append(exc)
        stored = iter(await self.store_many(news) if news else [])
        placed = iter(news)
        settled = [
            answer if answer is not None else self._settled(next(placed), next(stored))
            for answer in answers
        ]
        created = sum(1 for a in settled if isinstance(a, Accepted) and a.created)
        if created:
            self.counted(interface, created)
        refused = [a for a in settled if isinstance(a, ValidationFailed)]
        if refused:
            await self.refused(interface, refused)
        return settled

    def _message(
        self,
        config: GatewayConfig,
        interface: str,
        body: Any,
        text: str | None,
        idempotency_key: str | None,
    ) -> NewMessage:
        """What is stored for a document, once it passed the door's limits and the schema."""
        spec = config.interfaces[interface]
        check_document(body)  # what the store and the encoder can hold, before the schema
        config.check_input(interface, body)
        targets, skipped = config.route(interface, body)
        fingerprint = canonical_hash(body)
        return NewMessage(
            interface=interface,
            message_type=spec.message_type,
            source_system=spec.source,
            business_key=config.business_key(interface, body),
            idempotency_key=idempotency_key or fingerprint,
            fingerprint=fingerprint,
            content_type="application/json",
            body=text if text is not None else orjson.dumps(body).decode(),
            targets=targets,
            ordered={t: spec.targets[t].supersede for t in targets if spec.targets[t].ordered},
            skipped=skipped,
        )

    def _settled(self, new: NewMessage, stored: Accepted | Exception) -> Accepted | Exception:
        if isinstance(stored, Exception):
            return stored
        try:
            return self._answered(new, stored, count=False)
        except ValidationFailed as exc:
            return exc

    def _answered(self, new: NewMessage, accepted: Accepted, *, count: bool = True) -> Accepted:
        """The store's answer as the sender gets it: a key reused for another body is refused
        (``count``: a new message is counted here, not by the caller for a page at once)."""
        if not accepted.created and accepted.fingerprint not in (None, new.fingerprint):
            raise ValidationFailed(
                [
                    FieldProblem(
                        "Idempotency-Key",
                        f"already used for a different body (message {accepted.message_id}); "
                        "a new document needs a new key",
                    )
                ],
                code="idempotency_key_reused",
            )
        if accepted.created:
            if count:
                self.counted(new.interface, 1)
            if accepted.deliveries and not accepted.handed:  # rows for the relay
                self.notify()
        return accepted
