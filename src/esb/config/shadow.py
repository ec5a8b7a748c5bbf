"""The parallel run of a target (``shadow:`` in interfaces.yaml), as the files declare it.

Two kinds, one block. On a live target, ``shadow.mapping`` names a candidate mapping
that runs beside the target's own on every delivery. On a new target, ``shadow.of``
names the live target whose system it will replace: the new target gets no deliveries
of its own while in shadow; its mapping runs on the live target's deliveries. Either
way the output is compared with what the live path sent, and sent nowhere unless
``send`` names a test endpoint.

Promotion (``esb shadow promote``) is kept in the store, not here; ``esb.shadow.overlay``
applies it on top of what this module reads from the files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from esb.config.types import StrictModel, Switch
from esb.configfile.models import Name
from esb.connectors.base import ConnectorConfig
from esb.shadow.masks import Masks, check_mask

if TYPE_CHECKING:
    from esb.config.models import InterfaceBase

Route = tuple[str, str]  # (interface, target)
Kind = Literal["mapping", "target"]

MaskPath = Annotated[str, AfterValidator(check_mask)]


class ShadowBase(StrictModel):
    """``targets.<name>.shadow``: run something beside the live path before it goes live."""

    enabled: Switch = True
    mapping: Name | None = Field(
        default=None,
        description="a candidate mapping for this target: runs on every delivery beside the "
        "target's own mapping, compared, never sent; promoted, it becomes the mapping",
    )
    of: Name | None = Field(
        default=None,
        description="this target stands for the system that will replace target `of`: it gets "
        "no deliveries while in shadow, its mapping runs on `of`'s deliveries; promoted, it "
        "gets the messages instead of `of`",
    )
    ignore: list[MaskPath] = Field(
        default_factory=list,
        description="fields not compared (volatile: timestamps, generated numbers), as paths "
        "of the output: sentAt, header.stamp, items[*].printedAt",
    )
    send: ConnectorConfig | None = Field(
        default=None,
        description="a test endpoint the shadow's output is sent to (any connector kind); "
        "without it nothing is sent",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> ShadowBase:
        if (self.mapping is None) == (self.of is None):
            raise ValueError(
                "write either mapping: (a candidate mapping for this target) or of: (the live "
                "target this new target will replace), not both and not neither"
            )
        return self


@dataclass(frozen=True)
class Shadow:
    """One declared parallel run, and whether the store says it was promoted."""

    interface: str
    name: str  # the target in shadow: the live one itself (kind mapping) or the new one
    live: str  # the live target whose deliveries it runs beside
    mapping: str | None  # what makes the shadow's output (None: the body unchanged)
    previous: str | None  # kind mapping: the live mapping it replaces; kind target: `live`
    masks: Masks = field(default_factory=Masks)
    send: ConnectorConfig | None = None
    promoted: bool = False

    @property
    def kind(self) -> Kind:
        return "mapping" if self.name == self.live else "target"

    @property
    def route(self) -> Route:
        return (self.interface, self.name)

    @property
    def live_route(self) -> Route:
        return (self.interface, self.live)


def declared(interfaces: Mapping[str, InterfaceBase]) -> tuple[Shadow, ...]:
    """Every enabled ``shadow:`` block of the validated interfaces, as none promoted."""
    found: list[Shadow] = []
    for name, interface in interfaces.items():
        for target, spec in interface.targets.items():
            block = spec.shadow
            if block is None or not block.enabled:
                continue
            masks = Masks(block.ignore)
            if block.mapping is not None:
                found.append(
                    Shadow(name, target, target, block.mapping, spec.mapping, masks, block.send)
                )
            else:
                live = str(block.of)
                found.append(Shadow(name, target, live, spec.mapping, live, masks, block.send))
    return tuple(found)


@dataclass(frozen=True)
class Routing:
    """What the shadows change for the pipeline: targets that take no new messages, and
    the running shadows by the live target whose deliveries they run beside."""

    standby: frozenset[Route] = frozenset()
    watching: Mapping[Route, tuple[Shadow, ...]] = field(default_factory=dict)


def routing(shadows: Iterable[Shadow]) -> Routing:
    """A new target in shadow takes no messages; promoted, the target it replaces takes none
    and it runs no more. A promoted candidate mapping runs no more either (it is live)."""
    standby: set[Route] = set()
    watching: dict[Route, list[Shadow]] = {}
    for shadow in shadows:
        if shadow.kind == "target":
            standby.add(shadow.live_route if shadow.promoted else shadow.route)
        if not shadow.promoted:
            watching.setdefault(shadow.live_route, []).append(shadow)
    return Routing(frozenset(standby), {r: tuple(s) for r, s in watching.items()})
