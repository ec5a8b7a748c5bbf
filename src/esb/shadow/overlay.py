"""The promotions kept in the store, applied on top of the configuration the files describe.

The files stay the source of truth for what exists; the store only says which declared
shadows an operator promoted. A promotion applies while the files still declare that very
shadow: the same candidate mapping beside the same live mapping, or the same new target
standing for the same live target. Change the files (make the candidate the target's
``mapping:`` and drop ``shadow:``, or point it at another candidate) and the promotion no
longer applies: it is reported as stale, and the files rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from esb.config.gateway import GatewayConfig
from esb.config.models import InterfaceBase
from esb.config.shadow import Shadow, routing
from esb.store.shadow import Promotion


def swaps(shadow: Shadow) -> tuple[str | None, str | None]:
    """What a promotion of ``shadow`` makes live and what it replaces: (candidate mapping,
    live mapping) for a candidate, (None, live target) for a new target."""
    if shadow.kind == "mapping":
        return shadow.mapping, shadow.previous
    return None, shadow.live


def matches(promotion: Promotion, shadow: Shadow) -> bool:
    """The stored promotion is about this declared shadow as the files declare it now."""
    if (promotion.interface, promotion.target) != shadow.route or promotion.kind != shadow.kind:
        return False
    return (promotion.mapping, promotion.previous) == swaps(shadow)


def _with_mapping(interface: InterfaceBase, target: str, mapping: str | None) -> InterfaceBase:
    spec = interface.targets[target].model_copy(update={"mapping": mapping})
    return interface.model_copy(update={"targets": {**interface.targets, target: spec}})


def apply(config: GatewayConfig, promotions: Iterable[Promotion]) -> GatewayConfig:
    """``config`` (as the files say) with the promoted shadows live: a candidate becomes its
    target's mapping; a new target takes the messages of the one it replaces."""
    promoted = [p for p in promotions if p.promoted]
    shadows = tuple(
        replace(s, promoted=any(matches(p, s) for p in promoted)) for s in config.shadows
    )
    interfaces = dict(config.interfaces)
    for shadow in shadows:
        if shadow.promoted and shadow.kind == "mapping":
            interface = interfaces[shadow.interface]
            interfaces[shadow.interface] = _with_mapping(interface, shadow.live, shadow.mapping)
    routed = routing(shadows)
    return replace(
        config,
        interfaces=interfaces,
        shadows=shadows,
        standby=routed.standby,
        watching=routed.watching,
    )


def stale(config: GatewayConfig, promotions: Iterable[Promotion]) -> list[Promotion]:
    """Promotions in force in the store that no declared shadow matches any more."""
    return [p for p in promotions if p.promoted and not any(matches(p, s) for s in config.shadows)]
