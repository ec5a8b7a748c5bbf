"""What a handler may use, each a narrow object the lifespan put on the app: never the
gateway itself. A handler names what it needs (``reads: ReadsDep``) and gets only that.
Async on purpose: a sync dependency would cost a thread hop on every request.

The objects that need RabbitMQ or know the process's parts (the reconciler, the
readiness check) are seen through a protocol, so the API imports nothing of the broker.
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from prometheus_client import CollectorRegistry

from esb.config.gateway import GatewayConfig
from esb.inbound import InboundRunner
from esb.live import LiveConfig
from esb.master_data import MasterData
from esb.queries.runner import QueryRunner
from esb.reads import Reads
from esb.settings import Settings
from esb.store.operator import OperatorActions


class Reconciles(Protocol):
    async def run(self, trigger: str) -> dict[str, Any]: ...


class Readiness(Protocol):
    async def __call__(self) -> dict[str, str]: ...


class ShadowDesk(Protocol):
    """The parallel runs (``esb.shadow.part.Shadows``): read them, promote, roll back."""

    async def status(self, days: int) -> dict[str, Any]: ...

    async def today(self) -> list[dict[str, Any]]: ...

    async def latest(
        self, route: tuple[str, str], outcome: str, day: str | None, limit: int
    ) -> list[dict[str, Any]]: ...

    async def promote(self, route: tuple[str, str], actor: str, reason: str) -> dict[str, Any]: ...

    async def rollback(self, route: tuple[str, str], actor: str, reason: str) -> dict[str, Any]: ...


async def _reads(request: Request) -> Reads:
    reads: Reads = request.app.state.reads
    return reads


async def _operator(request: Request) -> OperatorActions:
    operator: OperatorActions = request.app.state.operator
    return operator


async def _reconciler(request: Request) -> Reconciles:
    reconciler: Reconciles = request.app.state.reconciler
    return reconciler


async def _readiness(request: Request) -> Readiness:
    ready: Readiness = request.app.state.readiness
    return ready


async def _master_data(request: Request) -> MasterData:
    master_data: MasterData = request.app.state.master_data
    return master_data


async def _config(request: Request) -> GatewayConfig:
    """The configuration running now (a reload swaps it; a request sees one)."""
    live: LiveConfig = request.app.state.live
    return live.config


async def _live(request: Request) -> LiveConfig:
    live: LiveConfig = request.app.state.live
    return live


async def _metrics(request: Request) -> CollectorRegistry:
    registry: CollectorRegistry = request.app.state.metrics.registry
    return registry


async def _inbound(request: Request) -> InboundRunner:
    inbound: InboundRunner = request.app.state.inbound
    return inbound


async def _queries(request: Request) -> QueryRunner:
    queries: QueryRunner = request.app.state.queries
    return queries


async def _shadows(request: Request) -> ShadowDesk:
    shadows: ShadowDesk = request.app.state.shadows
    return shadows


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ReadsDep = Annotated[Reads, Depends(_reads)]
OperatorDep = Annotated[OperatorActions, Depends(_operator)]
ReconcilerDep = Annotated[Reconciles, Depends(_reconciler)]
ReadinessDep = Annotated[Readiness, Depends(_readiness)]
MasterDataDep = Annotated[MasterData, Depends(_master_data)]
ConfigDep = Annotated[GatewayConfig, Depends(_config)]
LiveDep = Annotated[LiveConfig, Depends(_live)]
MetricsDep = Annotated[CollectorRegistry, Depends(_metrics)]
InboundDep = Annotated[InboundRunner, Depends(_inbound)]
SettingsDep = Annotated[Settings, Depends(_settings)]
QueriesDep = Annotated[QueryRunner, Depends(_queries)]
ShadowsDep = Annotated[ShadowDesk, Depends(_shadows)]
