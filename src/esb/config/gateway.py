"""The configuration as the running gateway uses it: who may call, where a message goes."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from esb.config.folder import FolderFiles
from esb.config.masterdata import DomainCheck
from esb.config.models import AlertsConfig, InterfaceBase, SystemConfig
from esb.config.queries import QueryConfig
from esb.config.shadow import Shadow
from esb.errors import FieldProblem, Forbidden, MappingError, NotFound, ValidationFailed
from esb.limits import MAX_CODE, text_problem
from esb.mapping import Expression, InputValidator, MappingSet

Route = tuple[str, str]  # (interface, target)


def hash_key(key: str) -> bytes:
    """Keys are kept only as SHA-256 digests; a memory dump shows no caller's key."""
    return hashlib.sha256(key.encode("utf-8")).digest()


@dataclass(frozen=True)
class GatewayConfig:
    """The validated configuration: systems, interfaces, keys (hashed), compiled rules."""

    folder: Path
    systems: Mapping[str, SystemConfig]
    interfaces: Mapping[str, InterfaceBase]
    key_hashes: Mapping[str, bytes]
    business_keys: Mapping[str, Expression] = field(default_factory=dict)
    validators: Mapping[str, InputValidator] = field(default_factory=dict)
    conditions: Mapping[Route, Expression] = field(default_factory=dict)
    mappings: MappingSet = field(default_factory=MappingSet)
    alerts: AlertsConfig | None = None
    #: the master-data sync checks of masterdata.yaml, by domain
    xref_checks: Mapping[str, DomainCheck] = field(default_factory=dict)
    queries: Mapping[str, QueryConfig] = field(default_factory=dict)  # the enabled ones
    #: interfaces left out because their ``enabled:`` is false (e.g. a variable unset)
    switched_off: tuple[str, ...] = ()
    #: queries left out because their ``enabled:`` is false
    queries_off: tuple[str, ...] = ()
    #: the folder's files as read for this configuration: their digest names it
    files: FolderFiles = field(default_factory=FolderFiles)
    #: every parallel run declared (``shadow:``), each saying whether it was promoted
    shadows: tuple[Shadow, ...] = ()
    #: targets that take no new messages: a new target in shadow, one replaced by promotion
    standby: frozenset[Route] = frozenset()
    #: the running shadows, by the live target whose deliveries they run beside
    watching: Mapping[Route, tuple[Shadow, ...]] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return self.files.digest

    def authenticate(self, token: str) -> str | None:
        """The system whose key this is, compared in constant time against every key."""
        presented = hash_key(token)
        found: str | None = None
        for system, digest in self.key_hashes.items():
            if hmac.compare_digest(presented, digest):
                found = system
        return found

    def interface_for(self, caller: str, message_type: str) -> tuple[str, InterfaceBase]:
        """The interface for ``message_type`` from ``caller``: 404 unknown, 403 someone else's."""
        others = False
        for name, interface in self.interfaces.items():
            if interface.message_type == message_type:
                if interface.source == caller:
                    return name, interface
                others = True
        if others:
            raise Forbidden(f"system {caller!r} may not send message type {message_type!r}")
        raise NotFound(f"no interface accepts message type {message_type!r}")

    def business_key(self, interface: str, body: Any) -> str | None:
        """The document's business key; one the store cannot hold is refused, never cut."""
        expression = self.business_keys.get(interface)
        if expression is None:
            return None
        try:
            value = expression.search(body)
        except MappingError:
            return None
        if value is None:
            return None
        key = str(value)
        if (problem := text_problem(key, MAX_CODE)) is not None:
            raise ValidationFailed(
                [FieldProblem(expression.text, f"the business key {problem}")],
                code="bad_business_key",
            )
        return key

    def check_input(self, interface: str, body: Any) -> None:
        """422 naming every offending field, before anything is stored."""
        validator = self.validators.get(interface)
        if validator is not None and (problems := validator.validate(body)):
            raise ValidationFailed(problems)

    def route(self, interface: str, body: Any) -> tuple[list[str], list[dict[str, str]]]:
        """The targets whose ``when`` holds, and the skipped ones with the reason."""
        targets, skipped = [], []
        for target in self.interfaces[interface].targets:
            if self.standby and (interface, target) in self.standby:
                continue  # in shadow, or replaced by the one promoted: not a target now
            condition = self.conditions.get((interface, target))
            if condition is None or _true(condition, body, target):
                targets.append(target)
            else:
                skipped.append({"target": target, "reason": f"when: {condition.text} is false"})
        return targets, skipped


def _true(condition: Expression, body: Any, target: str) -> bool:
    """JMESPath truth: false, null, "", [] and {} are false; anything else is true."""
    try:
        value = condition.search(body)
    except MappingError as exc:
        raise ValidationFailed(
            [FieldProblem("", f"routing to {target!r}: {exc}")], code="routing_failed"
        ) from exc
    if value is None or value is False or value == "":
        return False
    return not (isinstance(value, list | dict) and not value)
