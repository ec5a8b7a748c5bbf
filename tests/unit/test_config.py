"""Configuration is validated before use; every error names file, line and key."""

from __future__ import annotations

import re
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
    assert problem == (
        f"{tmp_path / 'interfaces.yaml'}:7: interfaces.sales-order.retires: "
        "unknown key 'retires': did you mean 'retry'?"
    )


def test_unknown_connector_kind_and_bad_values(tmp_path: Path) -> None:
    bad = GOOD.replace("kind: rest", "kind: carrier-pigeon")
    [problem] = problems(write_config(tmp_path, bad))
    assert ":10: interfaces.sales-order.targets.mes.connector.kind:" in problem
    installed = re.search(
        r"unknown connector kind 'carrier-pigeon' \(installed: ([a-z, -]+)\)", problem
    )
    assert installed is not None, problem
    assert {"file", "rest", "soap"} <= set(installed.group(1).split(", "))  # and any plugin
    assert "registers 'carrier-pigeon' in the entry-point group esb.connectors" in problem
    bad_url = GOOD.replace("url: ${MES_URL}/api/work-orders", "url: ftp://mes")
    [problem] = problems(write_config(tmp_path, bad_url))
    assert problem.endswith(
        ":11: interfaces.sales-order.targets.mes.connector.url: must start with http:// or https://"
    )


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
    from esb.configfile.yamlfile import _substitute

    problems: list[str] = []
    assert _substitute("a $${B} ${C:-${D:-x}}", {}, "f:1", problems) == "a ${B} x"
    assert problems == []


def test_plus_gives_its_word_only_when_the_variable_is_set() -> None:
    from esb.configfile.yamlfile import _substitute

    problems: list[str] = []
    assert _substitute("${DB:+on}", {"DB": "mysql://mes"}, "f:1", problems) == "on"
    assert _substitute("${DB:+on}", {"DB": ""}, "f:1", problems) == ""
    assert _substitute("[${DB:+on}]", {}, "f:1", problems) == "[]"
    assert problems == []  # an unset variable behind :+ is no problem


OPTIONAL = (
    GOOD
    + """
  production-report:
    enabled: ${MES_DB_URL:+true}
    source: mes
    message_type: production_report
    targets:
      erp:
        connector: {kind: rest, url: "${ERP_REPORT_URL}/receipts"}
"""
)


def test_an_interface_switched_off_is_left_out_and_needs_no_variables(tmp_path: Path) -> None:
    folder = write_config(tmp_path, OPTIONAL)
    (folder / "systems.yaml").write_text(
        "systems:\n  erp: {api_key: k-erp-0123456789}\n  mes: {}\n", encoding="utf-8"
    )
    config = load(folder)
    assert set(config.interfaces) == {"sales-order"}
    assert config.switched_off == ("production-report",)
    on = load(folder, {"MES_DB_URL": "mysql://mes", "ERP_REPORT_URL": "http://erp"})
    assert set(on.interfaces) == {"sales-order", "production-report"}
    assert on.interfaces["production-report"].enabled is True
    assert on.switched_off == ()
    # switched on, its variables are needed again, and said so with file and line
    (found,) = problems(folder, {"MES_DB_URL": "mysql://mes"})
    assert "ERP_REPORT_URL is not set" in found
    assert "interfaces.yaml:" in found


@pytest.mark.parametrize("value", ["false", "no", "off", "0", "''", "False"])
def test_enabled_false_in_any_spelling_switches_off(tmp_path: Path, value: str) -> None:
    text = GOOD.replace("    key: OrderNo\n", f"    key: OrderNo\n    enabled: {value}\n", 1)
    text += "  other:\n    source: erp\n    message_type: other\n    targets:\n"
    text += "      mes: {connector: {kind: rest, url: 'http://mes/x'}}\n"
    config = load(write_config(tmp_path, text))
    assert set(config.interfaces) == {"other"}
    assert config.switched_off == ("sales-order",)


# -- esb check: every problem of every file in one run, in plain words (issue 9, item 13) --

BROKEN = """
interfaces:
  sales-order:
    source: erp
    message_type: sales_order
    key: OrderNo
    schema: schemas/missing.schema.json
    retires: 3
    targets:
      mes:
        mapping: broken-map
        connector:
          kind: rets
          url: ${MES_URL}/api/work-orders
      wms:
        when: "OrderType =="
        mapping: no-such-map
        connector: {kind: rest, url: "${NOPE_URL}/x", colour: red}
      plm:
        connector: {kind: sap-rfc}
"""
BROKEN_MAPPING = "source: erp\ntarget: mes\nfields:\n  a: [\n"


def _located(found: list[str], folder: Path) -> list[str]:
    """``file:line: key`` of each problem, the file relative to ``folder``."""
    return [":".join(p.removeprefix(f"{folder}/").split(":")[:3]) for p in found]


def test_one_run_reports_every_problem_of_every_file_once(tmp_path: Path) -> None:
    write_config(tmp_path, BROKEN)
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "broken-map.yaml").write_text(BROKEN_MAPPING)
    found = problems(tmp_path)
    assert sorted(_located(found, tmp_path)) == sorted([
        "interfaces.yaml:7: interfaces.sales-order.schema",
        "interfaces.yaml:8: interfaces.sales-order.retires",
        "interfaces.yaml:13: interfaces.sales-order.targets.mes.connector.kind",
        "interfaces.yaml:16: interfaces.sales-order.targets.wms.when",
        "interfaces.yaml:17: interfaces.sales-order.targets.wms.mapping",
        "interfaces.yaml:18: interfaces.sales-order.targets.wms.connector.url",  # NOPE_URL
        "interfaces.yaml:18: interfaces.sales-order.targets.wms.connector.colour",
        "interfaces.yaml:19: interfaces.sales-order.targets.plm",  # no system plm
        "interfaces.yaml:20: interfaces.sales-order.targets.plm.connector.kind",
        "mappings/broken-map.yaml:5: YAML syntax",
    ])  # fmt: skip
    text = "\n".join(found)
    assert "unknown mapping 'no-such-map'" in text
    assert "'broken-map'" not in text  # reported in its own file, not as unknown here
    assert "NOPE_URL is not set" in text
    assert "must start with http" not in text  # the unset value's only problem is that


def test_pydantic_wording_never_reaches_the_reader(tmp_path: Path) -> None:
    write_config(tmp_path, BROKEN.replace("retires: 3", "retry: {max_attempts: many}"))
    text = "\n".join(problems(tmp_path))
    for leak in ("Value error", "Input tag", "Input should", "Extra inputs", "Field required",
                 "discriminator", "String should"):  # fmt: skip
        assert leak not in text
    assert "retry.max_attempts: must be a whole number" in text
    assert (
        "kind 'rets': did you mean 'rest'? "
        "(installed: file, kingdee, rest, soap, sql, xref, yonyou)" in text
    )
    assert "colour: unknown key 'colour' (allowed here: " in text
    unknown = next(p for p in text.splitlines() if "'sap-rfc'" in p)
    assert "no installed package provides it" in unknown
    assert "entry-point group esb.connectors" in unknown


def test_an_inbound_source_kind_gets_the_same_help(tmp_path: Path) -> None:
    inbound = "    inbound:\n      - {kind: file-dorp, folder: /tmp/x}\n      - {kind: staging}\n"
    found = problems(
        write_config(tmp_path, GOOD.replace("    key: OrderNo\n", "    key: OrderNo\n" + inbound))
    )
    assert len(found) == 2
    assert found[0].endswith(
        "interfaces.sales-order.inbound[0].kind: unknown source kind 'file-dorp': "
        "did you mean 'file-drop'? (installed: file-drop, kingdee-poll, rest-poll, soap, sql-poll)"
    )
    assert "'staging'" in found[1]
    assert "entry-point group esb.inbound" in found[1]


def test_a_broken_systems_file_does_not_make_every_system_unknown(tmp_path: Path) -> None:
    write_config(tmp_path, GOOD.replace("source: erp", "source: sap"), "systems:\n  erp: [\n")
    found = problems(tmp_path)
    assert len(found) == 1
    assert "systems.yaml" in found[0]
    assert "YAML syntax" in found[0]
    write_config(tmp_path, GOOD.replace("source: erp", "source: sap"),
                 "systems:\n  erp: {api_key: x, colour: red}\n  mes: {}\n")  # fmt: skip
    found = problems(tmp_path)
    assert any("systems.erp.colour: unknown key 'colour'" in p for p in found)
    assert any("source: unknown system 'sap' (known: erp, mes)" in p for p in found)


def test_a_yaml_syntax_error_says_where_the_broken_construct_began(tmp_path: Path) -> None:
    write_config(tmp_path, GOOD.replace("key: OrderNo", 'key: "OrderNo'))
    [problem] = problems(tmp_path)
    assert "interfaces.yaml:" in problem
    assert "YAML syntax: " in problem
    assert "(while scanning a quoted scalar, line 6)" in problem
