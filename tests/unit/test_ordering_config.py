"""``ordering: key`` and ``supersede`` are checked like every other setting: file, line, field."""

from __future__ import annotations

from pathlib import Path

from tests.support.gateway import write_config
from tests.unit.test_config import GOOD, load, problems

ORDERED = GOOD.replace(
    "      mes:\n", "      mes:\n        ordering: key\n        supersede: true\n"
)


def test_ordering_and_supersede_are_read(tmp_path: Path) -> None:
    target = load(write_config(tmp_path, ORDERED)).interfaces["sales-order"].targets["mes"]
    assert (target.ordering, target.supersede, target.ordered) == ("key", True, True)
    plain = load(write_config(tmp_path, GOOD)).interfaces["sales-order"].targets["mes"]
    assert (plain.ordering, plain.supersede, plain.ordered) == ("none", False, False)


def test_supersede_without_ordering_is_refused_naming_the_field(tmp_path: Path) -> None:
    bad = GOOD.replace("      mes:\n", "      mes:\n        supersede: true\n")
    [problem] = problems(write_config(tmp_path, bad))
    assert problem == (
        f"{tmp_path / 'interfaces.yaml'}:9: interfaces.sales-order.targets.mes.supersede: "
        "supersede: true only applies with ordering: key (a later document can only replace "
        "one that waits behind its key); add ordering: key"
    )


def test_ordering_by_key_needs_the_interface_key(tmp_path: Path) -> None:
    bad = ORDERED.replace("    key: OrderNo\n", "").replace("        supersede: true\n", "")
    [problem] = problems(write_config(tmp_path, bad))
    assert problem.startswith(
        f"{tmp_path / 'interfaces.yaml'}:8: interfaces.sales-order.targets.mes.ordering: "
        "ordering: key needs the interface's key:"
    )


def test_an_unknown_ordering_is_refused(tmp_path: Path) -> None:
    bad = ORDERED.replace("ordering: key", "ordering: fifo")
    [problem] = problems(write_config(tmp_path, bad))
    assert "interfaces.sales-order.targets.mes.ordering:" in problem
    assert "'none'" in problem
    assert "'key'" in problem
