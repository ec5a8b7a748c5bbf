"""The SDK's surface is exactly what is documented, and every name of it imports."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import esb.sdk

DOCUMENTED = {
    # outcomes and requests
    "Delivered", "RetryLater", "Park", "Outcome", "DeliveryRequest",
    # plugin protocols and bases
    "Connector", "ConnectorConfig", "ConnectorContext", "InboundSource", "InboundConfig",
    "SourceContext", "HttpInbound", "Accept", "AcceptMany", "Accepted", "KeyCheck",
    "IdempotencyCheck", "MessageOutcome", "OutcomeLookup",
    # config types
    "StrictModel", "Duration", "parse_duration", "Timeouts", "TimeZoneName", "RetryPolicy",
    "Auth", "BasicAuth", "BearerAuth", "HeaderAuth", "auth_headers",
    # errors
    "EsbError", "PluginError", "ConfigError", "FieldProblem", "ValidationFailed",
    "Unauthenticated", "Forbidden", "PayloadTooLarge", "StoreUnavailable",
    # helpers
    "xml", "read_body", "json_default", "dumps", "loads", "shorten", "more",
    "MAX_SHOWN", "MAX_LISTED", "MAX_DEPTH", "options_table",
    # state and time
    "StateStore", "MemoryStateStore", "Clock", "SystemClock",
    # schedules and databases
    "Schedule", "ScheduleText", "Run", "async_database_url",
}  # fmt: skip


def test_all_is_the_documented_surface() -> None:
    assert set(esb.sdk.__all__) == DOCUMENTED
    assert len(esb.sdk.__all__) == len(set(esb.sdk.__all__))


def test_every_name_imports_and_is_described() -> None:
    doc = esb.sdk.__doc__ or ""
    for name in esb.sdk.__all__:
        assert getattr(esb.sdk, name) is not None
        assert re.search(rf"\b{re.escape(name)}\b", doc), f"{name} is not in esb.sdk's docstring"


def test_plugin_errors_are_in_the_gateway_tree() -> None:
    assert issubclass(esb.sdk.PluginError, esb.sdk.EsbError)
    assert issubclass(esb.sdk.xml.XmlRefused, esb.sdk.PluginError)


def test_the_sdk_loads_no_database_or_broker_library() -> None:
    code = (
        "import sys, esb.sdk; "
        "print(sorted(m for m in ('sqlalchemy', 'aio_pika', 'asyncpg') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


ADAPTERS = Path(__file__).resolve().parents[2] / "adapters"


def _imports(path: Path) -> set[str]:
    """The absolute module names ``path`` imports (``from . import x`` is its own package)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_adapters_import_only_the_sdk_of_esb_and_no_other_adapter() -> None:
    packages = {p.name for p in ADAPTERS.iterdir() if (p / "__init__.py").exists()}
    assert packages == {
        "esb_file", "esb_kingdee", "esb_poll", "esb_rest", "esb_soap", "esb_sql", "esb_yonyou"
    }  # fmt: skip
    for package in packages:
        for path in (ADAPTERS / package).glob("*.py"):  # the package, not its tests
            for name in _imports(path):
                top = name.split(".")[0]
                if top == "esb":
                    assert name == "esb.sdk" or name.startswith("esb.sdk."), f"{path}: {name}"
                assert top not in packages - {package}, f"{path} imports another adapter: {name}"


@pytest.mark.parametrize(
    ("written", "used"),
    [
        ("mysql://u:p@mes:3306/mes", "mysql+asyncmy://u:p@mes:3306/mes"),
        ("mariadb://u:p@mes/mes", "mysql+asyncmy://u:p@mes/mes"),
        ("postgresql://u@db/erp", "postgresql+asyncpg://u@db/erp"),
        ("postgres://u@db/erp", "postgresql+asyncpg://u@db/erp"),
        ("mssql://u:p@sql/erp", "mssql+aioodbc://u:p@sql/erp"),
        (
            "oracle://u:p@ora:1521/?service_name=ERP",
            "oracle+oracledb_async://u:p@ora:1521/?service_name=ERP",
        ),
        ("sqlite:///var/mes.db", "sqlite+aiosqlite:///var/mes.db"),
        ("mysql+aiomysql://u:p@mes/mes", "mysql+aiomysql://u:p@mes/mes"),  # a driver named: kept
    ],
)
def test_database_urls_are_written_plainly_and_get_their_driver(written: str, used: str) -> None:
    assert esb.sdk.async_database_url(written) == used


@pytest.mark.parametrize("url", ["mes-db:3306", "db2://u@h/x", "://x"])
def test_an_unusable_database_url_is_refused_in_words(url: str) -> None:
    with pytest.raises(ValueError, match="database"):
        esb.sdk.async_database_url(url)
