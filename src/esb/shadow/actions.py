"""Promote a shadow and roll it back: what the CLI and the admin API share.

Each reads the promotions in force first, so the checks see what every process will
apply, and records the change with its audit entry in one transaction (``store.shadow``).
The audit entry says what delivered before and what delivers after: target and mapping.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.gateway import GatewayConfig
from esb.config.shadow import Shadow
from esb.errors import Conflict, NotFound
from esb.shadow.overlay import apply, swaps
from esb.store import shadow as store


def find(config: GatewayConfig, interface: str, target: str) -> Shadow:
    """The declared shadow of ``target`` in ``interface``; NotFound lists the declared ones."""
    for shadow in config.shadows:
        if shadow.route == (interface, target):
            return shadow
    declared = ", ".join(f"{s.interface} {s.name}" for s in config.shadows) or "none"
    raise NotFound(
        f"no shadow for target {target!r} of interface {interface!r} in the configuration "
        f"(declared: {declared})"
    )


def delivering(config: GatewayConfig, shadow: Shadow, promoted: bool) -> dict[str, Any]:
    """Which target gets the messages, through which mapping, with ``shadow`` promoted or not."""
    if shadow.kind == "mapping":
        mapping = shadow.mapping if promoted else shadow.previous
        return {"target": shadow.live, "mapping": mapping}
    if promoted:
        return {"target": shadow.name, "mapping": shadow.mapping}
    interface = config.interfaces[shadow.interface]
    return {"target": shadow.live, "mapping": interface.targets[shadow.live].mapping}


def _change(
    config: GatewayConfig, shadow: Shadow, actor: str, reason: str, *, promoting: bool
) -> store.Change:
    mapping, previous = swaps(shadow)
    now, then = delivering(config, shadow, False), delivering(config, shadow, True)
    before, after = (now, then) if promoting else (then, now)
    return store.Change(
        shadow.interface, shadow.name, shadow.kind, mapping, previous, actor, reason, before, after
    )


def _refuse_rival(config: GatewayConfig, shadow: Shadow) -> None:
    """One new target at a time replaces a live one."""
    for other in config.shadows:
        if (other.kind, other.live, other.promoted) == ("target", shadow.live, True) and (
            other.name != shadow.name and other.interface == shadow.interface
        ):
            raise Conflict(
                f"{shadow.live} is replaced by {other.name} already: roll that back first "
                f"(esb shadow rollback {other.interface} {other.name})"
            )


async def promote(
    engine: AsyncEngine, base: GatewayConfig, route: tuple[str, str], actor: str, reason: str
) -> dict[str, Any]:
    """Make the shadow at ``route`` live in every process (within their refresh), audited."""
    config = apply(base, await store.promotions(engine))
    shadow = find(config, *route)
    if shadow.promoted:
        raise Conflict(f"{route[0]} -> {route[1]} is promoted already")
    if shadow.kind == "target":
        _refuse_rival(config, shadow)
    change = _change(config, shadow, actor, reason, promoting=True)
    await store.promote(engine, change)
    return _answer(route, "promoted", change)


async def rollback(
    engine: AsyncEngine, base: GatewayConfig, route: tuple[str, str], actor: str, reason: str
) -> dict[str, Any]:
    """Bring back what delivered before the promotion, in every process, audited."""
    config = apply(base, await store.promotions(engine))
    shadow = find(config, *route)
    if not shadow.promoted:
        raise Conflict(f"{route[0]} -> {route[1]} is not promoted: nothing to roll back")
    change = _change(config, shadow, actor, reason, promoting=False)
    await store.rollback(engine, change)
    return _answer(route, "shadow", change)


def _answer(route: tuple[str, str], state: str, change: store.Change) -> dict[str, Any]:
    return {
        "interface": route[0],
        "target": route[1],
        "state": state,
        "before": change.before,
        "delivering": change.after,
    }
