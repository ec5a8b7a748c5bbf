"""The configuration a process runs on, reloadable without a restart.

A reload reads and checks every file first; only a fully valid configuration
replaces the running one, in one swap (config and connectors together). A broken
file is reported and the working configuration stays; ``status()`` says so (with each
problem as ``file:line: key: message``) in the health report and on the dashboard
until a good reload clears it. Connectors whose settings did
not change are kept (their pooled connections too); replaced ones are closed once
the calls in flight had time to finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from esb.config.loader import GatewayConfig, load_config
from esb.config_trail import ConfigTrail, Trigger, watcher
from esb.connectors import Connector, ConnectorContext, ConnectorRegistry
from esb.connectors.core import CoreServices
from esb.errors import ConfigError, EsbError
from esb.store.engine import utcnow

log = structlog.get_logger(__name__)

Route = tuple[str, str]  # (interface, target)
RETIRE_AFTER_S = 60.0


def routes(config: GatewayConfig) -> list[Route]:
    return [(name, target) for name, i in config.interfaces.items() for target in i.targets]


def connector_settings(config: GatewayConfig, route: Route) -> Any:
    return config.interfaces[route[0]].targets[route[1]].connector


@dataclass(frozen=True)
class Snapshot:
    """Everything a reload changes, swapped as one."""

    config: GatewayConfig
    connectors: Mapping[Route, Connector] = field(default_factory=dict)


@dataclass
class ReloadResult:
    ok: bool
    problems: list[str] = field(default_factory=list)
    added: list[Route] = field(default_factory=list)
    at: datetime = field(default_factory=utcnow)


class LiveConfig:
    def __init__(
        self,
        folder: Path,
        registry: ConnectorRegistry,
        initial: GatewayConfig,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.folder = folder
        self.env = env
        self.registry = registry
        #: the configuration as the files say it; ``config`` is it with ``overlay`` applied
        self.base = initial
        #: what the store adds on top of the files (shadow promotions); set by the gateway
        self.overlay: Callable[[GatewayConfig], GatewayConfig] = lambda config: config
        self.snapshot = Snapshot(initial)
        self.loaded_at = utcnow()  # when the running configuration was read
        self.last_reload: ReloadResult | None = None
        self.with_connectors = False
        #: what the gateway's own connectors (``xref``) are built with; set by the gateway
        self.core: CoreServices | None = None
        self.on_routes_added: list[Callable[[list[Route]], Awaitable[None]]] = []
        self._closing: set[asyncio.Future[None]] = set()
        self.on_reloaded: list[Callable[[GatewayConfig], Awaitable[None]]] = []
        #: records each change in the audit log; set by the gateway
        self.trail: ConfigTrail | None = None
        self._reloading = asyncio.Lock()  # the watcher and the API, one at a time

    @property
    def config(self) -> GatewayConfig:
        return self.snapshot.config

    def _build(self, config: GatewayConfig, old: Snapshot) -> dict[Route, Connector]:
        connectors: dict[Route, Connector] = {}
        for route in routes(config):
            kept = old.connectors.get(route)
            same = route in routes(old.config) and connector_settings(
                old.config, route
            ) == connector_settings(config, route)
            if kept is not None and same:
                connectors[route] = kept
                continue
            context = ConnectorContext(config.folder, target=route[1], interface=route[0])
            try:
                connectors[route] = self.registry.build(
                    connector_settings(config, route), context, self.core
                )
            except ConfigError:
                raise
            except Exception as exc:  # a connector's constructor refused its settings
                where = f"interfaces.yaml: {route[0]}.targets.{route[1]}.connector"
                raise ConfigError(
                    [f"{where}: cannot be built: {type(exc).__name__}: {exc}"]
                ) from exc
        return connectors

    def start_connectors(self) -> None:
        """Workers need connectors; an API-only process never builds them."""
        self.with_connectors = True
        self.snapshot = Snapshot(self.config, self._build(self.config, Snapshot(self.config)))

    def reshape(self) -> None:
        """Apply the overlay again to the files' configuration (a promotion changed); the
        routes stay the same, so do the connectors."""
        self.snapshot = Snapshot(self.overlay(self.base), self.snapshot.connectors)

    async def reload(self, trigger: Trigger) -> ReloadResult:
        """Apply the folder's files if they pass every check; either way, audited (what the
        files say, before and after: a promotion is audited on its own)."""
        async with self._reloading:
            running = self.base
            result = await self._reload()
            if self.trail is not None and result.ok:
                await self.trail.reloaded(running, self.base, trigger)
            elif self.trail is not None:
                await self.trail.refused(running, result.problems, trigger)
            return result

    async def _reload(self) -> ReloadResult:
        old = self.snapshot
        try:
            base = load_config(self.folder, self.registry, self.env)
            config = self.overlay(base)
            connectors = self._build(config, old) if self.with_connectors else {}
        except ConfigError as exc:
            self.last_reload = ReloadResult(False, self._relative(exc.problems))
            log.error("configuration not reloaded: the running one stays", problems=exc.problems)
            return self.last_reload
        self.base, self.snapshot = base, Snapshot(config, connectors)
        added = [r for r in routes(config) if r not in routes(old.config)]
        for callback in self.on_routes_added:
            try:
                await callback(added)
            except EsbError as exc:  # the relay still declares them; consuming needs a restart
                log.error("new routes not consumed yet", routes=added, error=str(exc))
        for reloaded in self.on_reloaded:
            await reloaded(config)
        retired = [c for c in old.connectors.values() if c not in connectors.values()]
        if retired:
            asyncio.get_running_loop().call_later(RETIRE_AFTER_S, self._retire, retired)
        self.last_reload = ReloadResult(True, added=added)
        self.loaded_at = self.last_reload.at
        log.info("configuration reloaded", interfaces=len(config.interfaces), new_routes=added)
        return self.last_reload

    def _relative(self, problems: list[str]) -> list[str]:
        """``interfaces.yaml:12: ...`` rather than the folder's full path on this machine."""
        prefix = f"{self.folder.resolve()}/"
        return [p.removeprefix(prefix) for p in problems]

    def status(self) -> dict[str, Any]:
        """Whether the running configuration is what the files say; if a change was refused,
        when and why. For the health report and the dashboard; cleared by a good reload."""
        failed = self.last_reload if self.last_reload and not self.last_reload.ok else None
        return {
            "status": "ok" if failed is None else "reload_failed",
            "loaded_at": self.loaded_at.isoformat(),
            "failed_at": None if failed is None else failed.at.isoformat(),
            "problems": [] if failed is None else failed.problems,
        }

    def _retire(self, connectors: list[Connector]) -> None:
        for connector in connectors:
            task = asyncio.ensure_future(connector.aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def watch(self, debounce_ms: int = 500) -> None:
        """Reload when a file of the configuration folder changes."""
        from watchfiles import awatch

        async for changes in awatch(self.folder, debounce=debounce_ms, recursive=True):
            try:
                await self.reload(watcher(self.folder, (path for _, path in changes)))
            except Exception:  # the watcher outlives any one reload's failure
                log.exception("configuration reload failed; still watching")

    async def aclose(self) -> None:
        for connector in self.snapshot.connectors.values():
            await connector.aclose()
