"""docker-compose.yml stays correct for users (Docker does not run here): every file it
mounts exists in the repository, the gateway waits for what it needs, and the MES
database it polls is created with the scenario's staging table."""

from __future__ import annotations

from pathlib import Path

import yaml

from esb.sdk import async_database_url

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_every_mounted_file_is_in_the_repository() -> None:
    for name, service in _compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).is_file(), f"{name} mounts {source}, which is missing"


def test_the_gateway_polls_the_mes_database_it_waits_for() -> None:
    services = _compose()["services"]
    gateway, mes = services["gateway"], services["mes-db"]
    assert gateway["depends_on"]["mes-db"] == {"condition": "service_healthy"}
    url = gateway["environment"]["MES_DB_URL"]
    env = mes["environment"]
    assert url == (
        f"mysql://{env['MARIADB_USER']}:{env['MARIADB_PASSWORD']}@mes-db:3306/"
        f"{env['MARIADB_DATABASE']}"
    )
    assert async_database_url(url).startswith("mysql+asyncmy://")
    (init,) = [v for v in mes["volumes"] if "docker-entrypoint-initdb.d" in v]
    sql = (ROOT / init.split(":", 1)[0]).read_text(encoding="utf-8")
    assert "CREATE TABLE mes_completion" in sql
