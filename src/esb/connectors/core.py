"""Connectors the gateway itself provides, which write its own data.

A plugin reaches nothing of the gateway but ``esb.sdk``; a *core* connector (such as
``xref``, which writes the cross-reference) needs a part of the gateway, so it is
registered by the core (not through an entry point) and built with ``CoreServices``:
the narrow objects it may use, handed over by the process that delivers. A class says
it is one with ``core = True``; the registry builds it as ``cls(config, context,
services)`` and refuses to build it where no gateway runs (the plugin contract suite).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from esb.master_data import MasterData

__all__ = ["CoreServices", "core_connectors", "is_core"]


@dataclass(frozen=True)
class CoreServices:
    """What a core connector may use of the running gateway."""

    master_data: MasterData


def is_core(cls: Any) -> bool:
    return getattr(cls, "core", False) is True


def core_connectors() -> dict[str, type[Any]]:
    """The gateway's own connectors by kind (imported late: they use the store)."""
    from esb.xref_sync import XrefTarget

    return {"xref": XrefTarget}
