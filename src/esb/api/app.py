"""``create_app(settings)``: the HTTP surface; the lifespan starts and stops the gateway parts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI

from esb import __version__
from esb.api import config as config_api
from esb.api import deliveries, errors, health, mappings, messages, trace, xref
from esb.api import inbound as inbound_api
from esb.api import metrics as metrics_api
from esb.api.inputs import RefuseNulInUrl
from esb.config.loader import GatewayConfig, load_config
from esb.connectors import ConnectorRegistry, load_registry
from esb.dashboard import dashboard_router
from esb.runtime import Gateway
from esb.settings import Settings

log = structlog.get_logger(__name__)


def _document_ingress(app: FastAPI) -> None:
    """The ingress route bypasses FastAPI; its operation is added to the generated document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = messages.document(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


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
        await gateway.prepare_database()
        app.state.gateway = gateway
        app.state.ingress = gateway.ingress
        await gateway.start(relay=relay, worker=worker)
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

    app = FastAPI(
        title="esb: integration gateway",
        version=__version__,
        description="Accepts messages from factory systems, maps and delivers them durably.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_middleware(RefuseNulInUrl)
    errors.install(app)
    routers = (
        messages,
        deliveries,
        trace,
        xref,
        mappings,
        config_api,
        health,
        metrics_api,
        inbound_api,
    )
    for module in routers:
        app.include_router(module.router)
    app.include_router(dashboard_router())
    _document_ingress(app)
    if settings.serve_demo_standins:
        from esb.demo import demo_app

        app.mount("/demo", demo_app())
    return app
