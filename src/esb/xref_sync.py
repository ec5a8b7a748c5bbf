"""Master-data sync: an interface whose target is the gateway's own cross-reference.

The ``xref`` connector takes each mapped document (a customer pulled from the ERP, say)
and sets its codes on one entity of a domain: the code of the first system in ``codes``
finds the entity (created when new), the others are set on it. A null or missing code
leaves that system as it is. Every change is in the audit log with the sync as its actor
(``sync:<interface>``) and reaches this process's cache at once, so the next message's
mapping finds the new code; other processes follow within their refresh interval. A
document that changes nothing changes nothing: a redelivery writes no row and no audit.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from esb.configfile.models import Name
from esb.connectors.base import (
    ConnectorConfig,
    ConnectorContext,
    Delivered,
    DeliveryRequest,
    Outcome,
    Park,
    RetryLater,
)
from esb.connectors.core import CoreServices
from esb.errors import Conflict, StoreUnavailable
from esb.limits import MAX_CODE, MAX_OPERATOR, text_problem

__all__ = ["XrefTarget", "XrefTargetConfig", "codes_of"]

#: A dotted path into the mapped document, e.g. ``code`` or ``ids.mes``.
Path = str


class XrefTargetConfig(ConnectorConfig):
    """Options of the ``xref`` connector (the gateway's own cross-reference as a target)."""

    domain: Name = Field(description="master-data domain written, e.g. customer")
    codes: dict[Name, str] = Field(
        min_length=1,
        description="system -> path of its code in the mapped document, e.g. "
        "{erp: code, mes: mes_id, wms: wms_code}; the first system's code finds the entity",
    )
    on_null: Literal["keep", "remove"] = Field(
        default="keep",
        description="a null or missing code: keep what the entity has for that system, "
        "or remove it",
    )
    actor: str | None = Field(
        default=None,
        max_length=MAX_OPERATOR,
        description="who the audit log names for each change; default: sync:<interface>",
    )

    @model_validator(mode="after")
    def _paths(self) -> XrefTargetConfig:
        for system, path in self.codes.items():
            if not path or any(not part for part in path.split(".")):
                raise ValueError(f"codes.{system}: {path!r} is not a path such as code or ids.mes")
        return self


def _at(document: Any, path: Path) -> Any:
    found = document
    for part in path.split("."):
        if not isinstance(found, dict):
            return None
        found = found.get(part)
    return found


def codes_of(config: XrefTargetConfig, document: Any) -> tuple[dict[str, str], list[str]]:
    """Each system's code in ``document`` (None-valued systems left out), and what is
    wrong with the document (a code that is not text or a whole number, or too long)."""
    codes: dict[str, str] = {}
    problems: list[str] = []
    for system, path in config.codes.items():
        value = _at(document, path)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            problems.append(f"`{path}` ({system} code) is {type(value).__name__}, not a code")
            continue
        text = str(value).strip()
        problem = text_problem(text, MAX_CODE) if text else "is empty"
        if problem is not None:
            problems.append(f"`{path}` ({system} code) {problem}")
            continue
        codes[system] = text
    return codes, problems


class XrefTarget:
    """See the module's docstring. Built by the registry with the gateway's services."""

    Config: ClassVar[type[XrefTargetConfig]] = XrefTargetConfig
    core: ClassVar[bool] = True

    def __init__(
        self, config: XrefTargetConfig, context: ConnectorContext, core: CoreServices
    ) -> None:
        self.config = config
        self.master_data = core.master_data
        self.actor = config.actor or f"sync:{context.interface}"

    async def deliver(self, request: DeliveryRequest) -> Outcome:
        config = self.config
        codes, problems = codes_of(config, request.body)
        key_system = next(iter(config.codes))
        if key_system not in codes and not problems:
            problems.append(f"`{config.codes[key_system]}` ({key_system} code) is missing")
        if problems:
            why = "; ".join(problems)
            return Park(f"the document cannot be written to the cross-reference: {why}")
        others: dict[str, str] = {s: c for s, c in codes.items() if s != key_system}
        if config.on_null == "remove":
            others |= {s: "" for s in config.codes if s not in codes and s != key_system}
        try:
            entity = await self.master_data.put(
                config.domain,
                key_system,
                codes[key_system],
                others,
                actor=self.actor,
                reason=f"message {request.message_id} of {request.interface}",
            )
        except StoreUnavailable as exc:
            return RetryLater(f"the gateway's database is unavailable: {exc}")
        except Conflict as exc:
            return Park(f"{config.domain} {key_system} {codes[key_system]!r}: {exc}")
        return Delivered(detail={"domain": config.domain, "entity": entity})

    async def aclose(self) -> None:
        return None
