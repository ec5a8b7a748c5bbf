"""``create_app(settings)``: the HTTP surface; the lifespan starts and stops the gateway parts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.datastructures import State

from esb import __version__
from esb.api import (
    audit,
    deliveries,
    errors,
    health,
    mappings,
    messages,
    openapi,
    queries,
    routes,
    shadow,
    trace,
    value,
    xref,
)
from esb.api import config as config_api
from esb.api import inbound as inbound_api
from esb.api import metrics as metrics_api
from esb.api.inputs import RefuseNulInUrl
from esb.api.shortcut import IngressShortcut
from esb.config.loader import GatewayConfig, load_config
from esb.connectors import ConnectorRegistry, load_registry
from esb.dashboard import dashboard_router
from esb.runtime import Gateway
from esb.settings import Settings

log = structlog.get_logger(__name__)


#: Where the API page (/docs) finds Swagger UI: served by the gateway itself from the
#: fastapi-offline wheel, so the page works on a network without internet. No ReDoc: its
#: bundle always fetches a logo from redoc.ly.
DOCS_ASSETS = "/docs/assets"


def hand_out(state: State, gateway: Gateway) -> None:
    """The narrow objects handlers depend on (``esb.api.deps``); no handler reads the
    gateway, kept here for its host (tests, and the SOAP endpoint until it moves onto
    the plugin SDK's context)."""
    state.gateway = gateway
    state.ingress = gateway.ingress
    state.reads = gateway.reads
    state.operator = gateway.operator
    state.reconciler = gateway.reconciler
    state.readiness = gateway.ready
    state.master_data = gateway.master_data
    state.live = gateway.live
    state.metrics = gateway.metrics
    state.inbound = gateway.inbound
    state.queries = gateway.queries
    state.shadows = gateway.shadows


def create_app(
    settings: Settings,
    *,
    config: GatewayConfig | None = None,
    registry: ConnectorRegistry | None = None,
    relay: bool = True,
    worker: bool = True,
) -> FastAPI:
    """The app for ``settings``; ``relay``/``worker`` say which background parts run here."""
    registry = registry or load_registry()
    config = config or load_config(settings.config, registry, settings.config_env())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.admin_key = settings.resolved_admin_key()
        gateway = Gateway(settings, config, registry)
        try:
            await gateway.start(relay=relay, worker=worker)
        except BaseException:
            await gateway.stop()
            raise
        hand_out(app.state, gateway)
        log.info(
            "gateway started",
            mode="embedded" if settings.embedded else "production",
            interfaces=len(config.interfaces),
            relay=relay,
            worker=worker,
        )
        try:
            yield
        finally:
            await gateway.stop()
            log.info("gateway stopped")

    app = FastAPIOffline(
        title="esb: integration gateway",
        version=__version__,
        description="Accepts messages from factory systems, maps and delivers them durably.",
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
        redoc_url=None,
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from swagger.io
    )
    app.state.settings = settings
    app.add_middleware(IngressShortcut)  # inside the NUL check: the last added is outermost
    app.add_middleware(RefuseNulInUrl)
    errors.install(app)
    routers = (
        messages,
        deliveries,
        audit,
        trace,
        xref,
        mappings,
        config_api,
        health,
        routes,
        value,
        metrics_api,
        inbound_api,
        queries,
        shadow,
    )
    for module in routers:
        app.include_router(module.router)
    app.include_router(dashboard_router())
    openapi.install(app)
    if settings.serve_demo_standins:
        from esb.demo import demo_app

        app.mount("/demo", demo_app())
    return app
