"""The demo factory is package data, and its stand-in URLs follow the gateway's address."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from esb.config.loader import load_config
from esb.connectors import load_registry
from esb.demo import DEMO_KINGDEE_ACCT_ID, DEMO_KINGDEE_PASSWORD, DEMO_KINGDEE_USER
from esb.settings import Settings, demo_config_dir, load_settings

ROOT = Path(__file__).resolve().parents[2]


def mes_url(env: dict[str, str]) -> str:
    config = load_config(demo_config_dir(), load_registry(), env)
    return str(config.interfaces["sales-order"].targets["mes"].connector.url)  # type: ignore[attr-defined]


def test_the_demo_is_inside_the_package() -> None:
    folder = demo_config_dir()
    assert folder == Path(str(resources.files("esb") / "demo_factory")).resolve()
    assert (folder / "systems.yaml").is_file()
    assert (ROOT / "examples" / "demo-factory").resolve() == folder  # one copy, linked


def test_with_no_settings_the_demo_runs_and_serves_its_stand_ins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("ESB_CONFIG", "ESB_DEMO_STANDINS", "ESB_HOST", "ESB_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.config == demo_config_dir()
    assert settings.serve_demo_standins


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:18000"),
        ("0.0.0.0", "http://127.0.0.1:18000"),  # every interface: reached over loopback
        ("::", "http://[::1]:18000"),
        ("fd00::5", "http://[fd00::5]:18000"),
        ("gateway.local", "http://gateway.local:18000"),
    ],
)
def test_the_local_url_is_where_a_program_on_this_host_reaches_the_gateway(
    host: str, url: str
) -> None:
    assert Settings(host=host, port=18000).local_url == url


def test_the_demo_targets_follow_the_port(tmp_path: Path) -> None:
    env = Settings(port=18000, data_dir=tmp_path).config_env()
    assert mes_url(env) == "http://127.0.0.1:18000/demo/mes/api/work-orders"
    assert mes_url({**env, "MES_URL": "http://mes:8080"}) == "http://mes:8080/api/work-orders"
    assert mes_url({"ESB_DATA_DIR": str(tmp_path)}) == (
        "http://127.0.0.1:8000/demo/mes/api/work-orders"  # read without the gateway's settings
    )


def test_serve_options_set_the_address_the_files_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``esb serve --port 18001`` reads the settings with that override (as here)."""
    for name in ("ESB_HOST", "ESB_PORT", "ESB_LOCAL_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ESB_PORT", "18000")
    settings = load_settings(port=18001, data_dir=tmp_path)
    assert mes_url(settings.config_env()).startswith("http://127.0.0.1:18001/demo/mes")


def test_the_mes_completions_query_is_on_only_with_mes_db_url(tmp_path: Path) -> None:
    env = {"ESB_DATA_DIR": str(tmp_path)}
    off = load_config(demo_config_dir(), load_registry(), env)
    assert dict(off.queries) == {}
    on = load_config(
        demo_config_dir(), load_registry(), {**env, "MES_DB_URL": "mysql://ro@mes/mes"}
    )
    query = on.queries["mes-completions"]
    assert (query.database, query.systems) == ("mysql://ro@mes/mes", ["erp"])
    assert list(query.parameters) == ["work_order"]


def test_the_finance_target_logs_in_to_the_demo_s_own_kingdee_unless_told_otherwise(
    tmp_path: Path,
) -> None:
    env = {**Settings(port=18000, data_dir=tmp_path).config_env(), "MES_DB_URL": "mysql://m/m"}
    config = load_config(demo_config_dir(), load_registry(), env)
    finance = config.interfaces["production-report"].targets["finance"].connector
    assert (finance.kind, finance.url) == (  # type: ignore[attr-defined]
        "kingdee",
        "http://127.0.0.1:18000/demo/kingdee/k3cloud",
    )
    login = (finance.acct_id, finance.username, finance.password.get_secret_value())  # type: ignore[attr-defined]
    assert login == (DEMO_KINGDEE_ACCT_ID, DEMO_KINGDEE_USER, DEMO_KINGDEE_PASSWORD)
    site = {"KINGDEE_URL": "http://kd/k3cloud", "KINGDEE_PASSWORD": "s3cret"}
    own = load_config(demo_config_dir(), load_registry(), {**env, **site})
    connector = own.interfaces["production-report"].targets["finance"].connector
    assert connector.url == "http://kd/k3cloud"  # type: ignore[attr-defined]
    assert connector.password.get_secret_value() == "s3cret"  # type: ignore[attr-defined]
