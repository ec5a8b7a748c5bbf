"""Process settings from the environment (twelve-factor): every command reads these.

YAML files describe *what* to integrate; these settings say *where* the gateway
runs (database, broker, port, data folder).  With none set it runs embedded:
SQLite under ``./var`` and the database as the queue.
"""

from __future__ import annotations

import os
import secrets
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings, SettingsConfigDict

from esb.configfile.wording import plain_message
from esb.errors import SettingsError
from esb.sdk._schedule import Schedule

#: The demo factory's folder inside the esb package (package data).
DEMO_FOLDER = "demo_factory"
#: Addresses that mean "every interface" when listening; a client on this host uses loopback.
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}
#: Values people paste from tutorials; refusing them beats running with a guessable key.
PLACEHOLDER_SECRETS = {"changeme", "change-me", "admin", "secret", "password", "test", "xxx"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: Settings whose value is never repeated in a message (keys, URLs with passwords).
SECRET_SETTINGS = {"admin_key", "database_url", "broker_url"}
#: What to do about a wrong value, where "fix it or unset it" is not enough.
ADVICE = {
    "admin_key": "set it to a random value of 12 or more characters, e.g. $(openssl rand -hex 24)",
    "database_url": "e.g. postgresql://user:password@host:5432/esb; unset: embedded SQLite",
    "broker_url": "e.g. amqp://user:password@host:5672/, or a cluster's nodes comma-separated "
    "(amqp://u:p@node1:5672/,amqp://u:p@node2:5672/); unset: embedded (no broker)",
}


def broker_urls(value: str) -> list[str]:
    """The URLs of a comma-separated ``ESB_BROKER_URL`` (blanks around commas ignored)."""
    return [part.strip() for part in value.split(",") if part.strip()]


def demo_config_dir() -> Path:
    """The demo-factory configuration shipped inside the package (``esb/demo_factory``), so
    ``esb serve`` with no settings runs it from a wheel as from a checkout."""
    return Path(str(resources.files("esb") / DEMO_FOLDER)).resolve()  # installed as files


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ESB_", extra="ignore")

    config: Path = Field(default_factory=demo_config_dir, description="configuration folder")
    data_dir: Path = Field(default=Path("var"), description="embedded database and state")
    database_url: str | None = None
    broker_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    admin_key: SecretStr | None = None

    broker_prefix: str = Field(default="esb", pattern=r"^[A-Za-z0-9_.-]+$")
    queue_type: Literal["quorum", "classic"] = "quorum"
    prefetch: int = Field(default=64, ge=1, le=10_000)
    relay_batch: int = Field(default=256, ge=1, le=10_000)
    poll_interval: float = Field(default=0.25, gt=0, description="idle relay poll, seconds")
    publish_timeout: float = Field(default=10.0, gt=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    accept_writers: int = Field(default=4, ge=1, description="parallel accept transactions (PG)")
    db_pool_size: int = Field(default=10, ge=1)
    db_timeout: float = Field(default=5.0, gt=0, description="connect/statement timeout, s")
    metrics_port: int | None = Field(
        default=None, description="esb worker/relay: serve /metrics on this port"
    )
    reconcile_every: float = Field(default=300.0, gt=0, description="consistency check, s")
    reconcile_stuck_after: float = Field(
        default=600.0, gt=0, description="older than this and not moving: stuck, s"
    )
    config_watch: bool = Field(default=True, description="reload when a config file changes")
    xref_refresh: float = Field(default=2.0, gt=0, description="master-data poll, seconds")
    shadow_refresh: float = Field(
        default=2.0, gt=0, description="look for shadow promotions made elsewhere, seconds"
    )
    flow_lease: float = Field(
        default=30.0,
        gt=0,
        description="flow control: a call's in-flight slot lease, renewed while it runs; "
        "a killed worker's slot is free again after this, s",
    )
    local_concurrency: int = Field(default=32, ge=1, description="embedded: parallel deliveries")
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    demo_standins: bool | None = Field(
        default=None, description="serve /demo stand-in targets; default: when running the demo"
    )
    time_zone: str = Field(
        default="Asia/Shanghai",
        description="the factory's time zone (IANA name): cron schedules and database "
        "times without a zone are read in it",
    )
    log_format: Literal["json", "console"] = "json"
    log_level: str = "INFO"

    # The HTTP server (esb serve): how long a client may take to send a request, and
    # how many connections one process holds open (see docs/operations.md).
    http_header_timeout: float = Field(
        default=10.0, gt=0, description="seconds to receive a request's line and headers"
    )
    http_body_timeout: float = Field(
        default=60.0, gt=0, description="seconds to receive a request's body after its headers"
    )
    http_max_connections: int = Field(
        default=1000, ge=1, description="open connections per process; beyond them: 503"
    )
    http_keep_alive: int = Field(
        default=5, ge=1, description="seconds an idle keep-alive connection stays open"
    )
    metrics_dir: Path | None = Field(
        default=None,
        description="folder shared by the processes of one host so /metrics reports them "
        "together (default with --reuse-port: <ESB_DATA_DIR>/metrics)",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        Schedule.parse("1m", value)  # ValueError naming the zone if it is unknown
        return value

    @field_validator("admin_key")
    @classmethod
    def _refuse_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value()
            if raw.lower() in PLACEHOLDER_SECRETS:
                raise ValueError("is a placeholder anyone could guess")
            if len(raw) < 12:
                raise ValueError("is shorter than 12 characters")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        """Accept the URLs people have (``postgresql://``) and pick the async driver."""
        if value is None or value == "":
            return None
        for plain, driver in (
            ("postgres://", "postgresql+asyncpg://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if value.startswith(plain):
                return driver + value[len(plain) :]
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("is not a PostgreSQL (postgresql://...) or SQLite URL")
        return value

    @field_validator("broker_url")
    @classmethod
    def _amqp(cls, value: str | None) -> str | None:
        """One URL, or the nodes of a cluster comma-separated (tried in turn: esb.failover)."""
        urls = broker_urls(value or "")
        if value and not urls:
            raise ValueError("lists no RabbitMQ URL")
        for number, url in enumerate(urls, 1):
            if not url.startswith(("amqp://", "amqps://")):
                which = f"URL number {number} " if len(urls) > 1 else ""
                raise ValueError(f"{which}is not a RabbitMQ URL (amqp://... or amqps://...)")
        return ",".join(urls) or None

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @property
    def serve_demo_standins(self) -> bool:
        if self.demo_standins is not None:
            return self.demo_standins
        return self.config.resolve() == demo_config_dir()

    @property
    def embedded(self) -> bool:
        """True when no broker is configured: the database is the queue."""
        return not self.broker_url

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'esb.db').resolve()}"

    @property
    def local_url(self) -> str:
        """The gateway's own HTTP address as a program on this host reaches it: a server
        listening on every interface (0.0.0.0, ::) is reached over loopback."""
        host = _ANY_ADDRESS.get(self.host, self.host)
        if ":" in host:  # an IPv6 address
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def config_env(self) -> dict[str, str]:
        """What ${NAME} in configuration files may read: the environment, plus the data
        folder as ESB_DATA_DIR (absolute) so files can place things under it by default,
        and the gateway's own address as ESB_LOCAL_URL (the demo's stand-ins live there)."""
        env = dict(os.environ)
        env.setdefault("ESB_DATA_DIR", str(self.data_dir.resolve()))
        env.setdefault("ESB_LOCAL_URL", self.local_url)
        return env

    def resolved_admin_key(self) -> str | None:
        """The admin key; embedded mode without one gets a generated key kept in the data dir."""
        if self.admin_key is not None:
            return self.admin_key.get_secret_value()
        if self.database_url and not self.effective_database_url.startswith("sqlite"):
            return None
        path = self.data_dir / "admin.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(24) + "\n")
            path.chmod(0o600)
        return path.read_text().strip()


def _problem(error: Any) -> str:
    name = str(error["loc"][0]) if error["loc"] else ""
    variable = f"ESB_{name.upper()}"
    shown = "" if name in SECRET_SETTINGS else f"={str(error['input'])!r}"
    field = Settings.model_fields.get(name)
    has_default = field is not None and (
        field.default is not PydanticUndefined or field.default_factory is not None
    )
    default = "" if field is None or field.default in (None, PydanticUndefined) else field.default
    usual = f"fix it, or unset it for the default{f' ({default})' if default != '' else ''}"
    advice = ADVICE.get(name) or (usual if has_default else "")
    return f"{variable}{shown}: {plain_message(error, Settings)}" + (
        f"; {advice}" if advice else ""
    )


def load_settings(**overrides: Any) -> Settings:
    """The settings, or SettingsError naming each wrong ESB_* variable and what to do."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError([_problem(e) for e in exc.errors(include_url=False)]) from None
