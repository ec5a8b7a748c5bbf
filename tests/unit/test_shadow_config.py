"""``shadow:`` is checked like every other setting (file, line, field), and the promotions
kept in the store are applied on top of what the files declare, while they still match."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from esb.mapping_tools import routes_using
from esb.shadow.overlay import apply, stale
from esb.store.shadow import Promotion
from tests.support.shadow import candidate_config, cloud_target
from tests.unit.test_config import load, problems

URL = "http://mes:8080"


def folder_with(tmp_path: Path, shadow: str, extra: str = "") -> Path:
    return candidate_config(tmp_path / "cfg", URL, shadow, extra)


def promotion(target: str, kind: str, mapping: str | None, previous: str | None) -> Promotion:
    at = datetime(2026, 12, 6, tzinfo=UTC)
    return Promotion("sales-order", target, kind, mapping, previous, "promoted", at, "admin")


def test_both_kinds_are_read(tmp_path: Path) -> None:
    config = load(folder_with(tmp_path, "{mapping: order-to-mes-v2, ignore: [sentAt]}",
                              cloud_target(URL)))  # fmt: skip
    candidate, cloud = config.shadows
    assert (candidate.kind, candidate.name, candidate.live) == ("mapping", "mes", "mes")
    assert (candidate.mapping, candidate.previous) == ("order-to-mes-v2", "order-to-mes")
    assert candidate.masks.paths == ("sentAt",)
    assert (cloud.kind, cloud.name, cloud.live, cloud.mapping) == (
        "target", "mescloud", "mes", "order-to-mescloud"
    )  # fmt: skip
    assert config.standby == {("sales-order", "mescloud")}  # in shadow: not routed
    assert config.watching[("sales-order", "mes")] == (candidate, cloud)
    assert config.route("sales-order", {"OrderNo": "1"}) == (["mes"], [])


def test_a_switched_off_shadow_is_not_there(tmp_path: Path) -> None:
    config = load(folder_with(tmp_path, "{enabled: '', mapping: order-to-mes-v2}"))
    assert config.shadows == ()
    assert config.watching == {}


def test_promotions_apply_while_the_files_declare_that_shadow(tmp_path: Path) -> None:
    base = load(folder_with(tmp_path, "{mapping: order-to-mes-v2}", cloud_target(URL)))
    both = [
        promotion("mes", "mapping", "order-to-mes-v2", "order-to-mes"),
        promotion("mescloud", "target", None, "mes"),
    ]
    config = apply(base, both)
    assert config.interfaces["sales-order"].targets["mes"].mapping == "order-to-mes-v2"
    assert base.interfaces["sales-order"].targets["mes"].mapping == "order-to-mes"  # untouched
    assert config.standby == {("sales-order", "mes")}  # replaced by mescloud
    assert config.route("sales-order", {"OrderNo": "1"}) == (["mescloud"], [])
    assert config.watching == {}  # both live: nothing runs in shadow
    assert stale(base, both) == []
    other = promotion("mes", "mapping", "order-to-mes-v3", "order-to-mes")
    assert apply(base, [other]).interfaces["sales-order"].targets["mes"].mapping == ("order-to-mes")
    assert stale(base, [other]) == [other]
    rolled = Promotion(**{**other.__dict__, "mapping": "order-to-mes-v2", "state": "rolled_back"})
    assert apply(base, [rolled]).shadows[0].promoted is False


def test_mistakes_are_named_with_file_and_line(tmp_path: Path) -> None:
    folder = folder_with(
        tmp_path,
        "{mapping: order-to-mes-v9, ignore: ['items[x]']}",
        cloud_target(URL).replace("of: mes", "of: erp"),
    )
    where = folder / "interfaces.yaml"
    assert problems(folder) == [
        f"{where}:12: interfaces.sales-order.targets.mes.shadow.ignore[0]: "
        "unexpected '[' at position 6",
        f"{where}:12: interfaces.sales-order.targets.mes.shadow.mapping: unknown mapping "
        "'order-to-mes-v9' (in mappings/: order-to-mes, order-to-mes-bad, order-to-mes-v2, "
        "order-to-mescloud)",
        f"{where}:16: interfaces.sales-order.targets.mescloud.shadow.of: unknown target 'erp' "
        "(targets of sales-order: mes)",
    ]


def test_a_candidate_must_fit_its_target(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "{mapping: order-to-mescloud}")
    [problem] = problems(folder)
    assert problem.endswith(
        "interfaces.sales-order.targets.mes.shadow.mapping: mapping 'order-to-mescloud' maps "
        "erp -> mescloud, this target needs erp -> mes"
    )
    [same] = problems(folder_with(tmp_path, "{mapping: order-to-mes}"))
    assert same.endswith("'order-to-mes' is this target's own mapping: nothing to compare")


def test_one_kind_at_a_time_and_no_chains(tmp_path: Path) -> None:
    [both, _] = problems(folder_with(tmp_path, "{mapping: order-to-mes-v2, of: mes}"))
    assert "interfaces.sales-order.targets.mes.shadow: write either mapping:" in both
    [neither] = problems(folder_with(tmp_path, "{ignore: [sentAt]}"))
    assert "not both and not neither" in neither
    [itself] = problems(folder_with(tmp_path, "{of: mes}"))
    assert itself.endswith("a target cannot replace itself: for a candidate mapping of it "
                           "write mapping:")  # fmt: skip
    next_one = cloud_target(URL).replace("mescloud:", "mesnext:\n        system: mescloud")
    chained = cloud_target(URL) + next_one.replace("of: mes", "of: mescloud")
    [chain] = problems(folder_with(tmp_path, "null", chained))
    assert chain.endswith("'mescloud' is itself a new target in shadow (of: mes): name the "
                          "live target")  # fmt: skip


def test_a_test_endpoint_is_a_connector_but_never_the_gateways_own_data(tmp_path: Path) -> None:
    [kind] = problems(folder_with(tmp_path, "{mapping: order-to-mes-v2, send: {kind: rets}}"))
    assert "interfaces.sales-order.targets.mes.shadow.send.kind: unknown connector kind " in kind
    assert "did you mean 'rest'?" in kind
    xref = "{mapping: order-to-mes-v2, send: {kind: xref, domain: customer, codes: {erp: a}}}"
    [own] = problems(folder_with(tmp_path, xref))
    assert own.endswith("shadow.send.kind: a test endpoint cannot be the gateway's own data (xref)")


def test_mapping_diff_tries_a_shadow_mapping_on_the_live_deliveries(tmp_path: Path) -> None:
    config = load(folder_with(tmp_path, "{mapping: order-to-mes-v2}", cloud_target(URL)))
    assert routes_using(config, "order-to-mes-v2") == [("sales-order", "mes")]
    assert routes_using(config, "order-to-mescloud") == [("sales-order", "mes")]
    assert routes_using(config, "order-to-mes") == [("sales-order", "mes")]
