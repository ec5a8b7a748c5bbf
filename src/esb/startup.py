"""What ``esb serve`` checks and says before it listens.

A deployment mistake should stop the process at once with one clear line, not leave
a gateway that looks healthy while every operator call answers 401, nor end in a
traceback from inside the server's start-up. And a person starting the gateway for
the first time needs to know where the admin key is: the dashboard asks for it.
The key itself is never written to a log.
"""

from __future__ import annotations

import structlog

from esb.errors import SettingsError
from esb.settings import Settings
from esb.store.engine import create_engine
from esb.store.existing import check_schema

log = structlog.get_logger("esb.startup")

NO_ADMIN_KEY = (
    "ESB_ADMIN_KEY is not set. In production mode (ESB_DATABASE_URL is PostgreSQL) no key "
    "is generated, and without one every operator endpoint and the dashboard would answer "
    "401. Set ESB_ADMIN_KEY to a random value of 12 or more characters from your secret "
    "store, e.g. ESB_ADMIN_KEY=$(openssl rand -hex 24)"
)


def require_admin_key(settings: Settings) -> None:
    """Production without ESB_ADMIN_KEY is refused (embedded generates one)."""
    if settings.resolved_admin_key() is None:
        raise SettingsError([NO_ADMIN_KEY])


def _local(host: str) -> str:
    return {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)


def announce_admin_key(settings: Settings, host: str, port: int) -> None:
    """Say where the operator key comes from and how to use it (never the key)."""
    dashboard = f"http://{_local(host)}:{port}/dashboard"
    if settings.admin_key is not None:
        log.info("operator endpoints and the dashboard use ESB_ADMIN_KEY", dashboard=dashboard)
        return
    key_file = (settings.data_dir / "admin.key").resolve()
    log.info(
        "operator endpoints and the dashboard need the admin key generated in this data "
        "folder: paste the content of key_file into the dashboard's sign-in, or send it in "
        "the Authorization header as the example does",
        key_file=str(key_file),
        dashboard=dashboard,
        example=f'curl -H "Authorization: Bearer $(cat {key_file})" {dashboard[:-10]}/v1/report',
    )


async def ready_to_serve(settings: Settings, host: str, port: int) -> None:
    """Refuse a start that cannot work; then say how to reach the operator side."""
    require_admin_key(settings)
    if not settings.embedded:  # embedded mode migrates its database on start
        engine = create_engine(settings)
        try:
            await check_schema(engine, settings)
        finally:
            await engine.dispose()
    announce_admin_key(settings, host, port)
