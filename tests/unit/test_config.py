"""Configuration is validated before use; every error names file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from esb.config.loader import load_config
from esb.connectors import load_registry
from esb.errors import ConfigError, Forbidden, NotFound
from tests.support.gateway import write_config

GOOD = """
interfaces:
  sales-order:
    source: erp
    message_type: sales_order
    key: OrderNo
    targets:
      mes:
        connector:
          kind: rest
          url: ${MES_URL}/api/work-orders
"""


def load(folder: Path, env: dict[str, str] | None = None):
    return load_config(folder, load_registry(), {"MES_URL": "http://mes:8080", **(env or {})})


def problems(folder: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(folder, env)
    return caught.value.problems


def test_environment_values_are_filled_in(tmp_path: Path) -> None:
    config = load(write_config(tmp_path, GOOD))
    connector = config.interfaces["sales-order"].targets["mes"].connector
    assert connector.url == "http://mes:8080/api/work-orders"  # type: ignore[attr-defined]


def test_unset_variable_names_file_line_and_variable(tmp_path: Path) -> None:
    write_config(tmp_path, GOOD)
    [problem] = problems(tmp_path, {"MES_URL": ""})
    assert problem.startswith(f"{tmp_path / 'interfaces.yaml'}:11: ")
    assert "MES_URL is not set" in problem


def test_unknown_key_is_refused_with_its_line(tmp_path: Path) -> None:
    write_config(tmp_path, GOOD.replace("    key: OrderNo", "    key: OrderNo\n    retires: 3"))
    [problem] = problems(tmp_path)
    assert problem.startswith(f"{tmp_path / 'interfaces.yaml'}:7: interfaces.sales-order.retires")
    assert "Extra inputs are not permitted" in problem


def test_unknown_connector_kind_and_bad_values(tmp_path: Path) -> None:
    bad = GOOD.replace("kind: rest", "kind: carrier-pigeon")
    [problem] = problems(write_config(tmp_path, bad))
    assert ":10: interfaces.sales-order.targets.mes.connector.kind:" in problem
    assert "'carrier-pigeon'" in problem
    assert "'rest'" in problem
    bad_url = GOOD.replace("url: ${MES_URL}/api/work-orders", "url: ftp://mes")
    [problem] = problems(write_config(tmp_path, bad_url))
    assert ":11: interfaces.sales-order.targets.mes.connector.url: String should match" in problem


def test_references_between_files_are_checked(tmp_path: Path) -> None:
    bad = GOOD.replace("source: erp", "source: sap").replace("      mes:", "      plm:")
    found = problems(write_config(tmp_path, bad))
    assert any("source: unknown system 'sap'" in p for p in found)
    assert any("targets.plm: unknown system 'plm'" in p for p in found)


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    [problem] = problems(write_config(tmp_path, GOOD + "  - : [\n"))
    assert "YAML syntax" in problem
    assert "interfaces.yaml:" in problem


def test_durations_and_retry_policy(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    key: OrderNo", "    key: OrderNo\n    retry: {schedule: [500ms, 2m, 1h]}"
    )
    retry = load(write_config(tmp_path, text)).interfaces["sales-order"].retry
    assert retry.schedule == [0.5, 120.0, 3600.0]
    assert retry.attempts == 4
    assert [retry.delay_before(n) for n in (2, 3, 4, 9)] == [0.5, 120.0, 3600.0, 3600.0]
    bad = GOOD.replace("    key: OrderNo", "    key: OrderNo\n    retry: {schedule: [soon]}")
    assert "is not a duration" in problems(write_config(tmp_path, bad))[0]


def test_callers_are_found_by_key_and_may_send_only_their_types(tmp_path: Path) -> None:
    config = load(write_config(tmp_path, GOOD))
    assert config.authenticate("erp-test-key-0123") == "erp"
    assert config.authenticate("nope") is None
    assert config.interface_for("erp", "sales_order")[0] == "sales-order"
    with pytest.raises(Forbidden):
        config.interface_for("mes", "sales_order")
    with pytest.raises(NotFound):
        config.interface_for("erp", "invoice")
    assert config.business_key("sales-order", {"OrderNo": "SO-9"}) == "SO-9"


def test_keys_are_kept_hashed_only(tmp_path: Path) -> None:
    config = load(write_config(tmp_path, GOOD))
    assert "erp-test-key-0123" not in repr(config)


def test_the_shipped_demo_configuration_is_valid() -> None:
    from esb.settings import demo_config_dir

    config = load_config(demo_config_dir(), load_registry(), {"ESB_DATA_DIR": "var"})
    assert "sales-order" in config.interfaces


def test_nested_defaults_and_literal_dollar_brace(tmp_path: Path) -> None:
    text = GOOD.replace(
        "url: ${MES_URL}/api/work-orders",
        "url: ${NOPE:-${MES_URL}/v2}/api\n    description: cost $${PRICE}",
    )
    text = text.replace("    description: cost $${PRICE}\n", "")
    config = load(write_config(tmp_path, text))
    connector = config.interfaces["sales-order"].targets["mes"].connector
    assert connector.url == "http://mes:8080/v2/api"  # type: ignore[attr-defined]
    from esb.config.yamlfile import _substitute

    problems: list[str] = []
    assert _substitute("a $${B} ${C:-${D:-x}}", {}, "f:1", problems) == "a ${B} x"
    assert problems == []
