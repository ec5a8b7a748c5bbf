"""The ``shadow:`` examples of docs/configuration.md and docs/operations.md pass the checks
``esb check`` runs (a documented example that does not load is a trap)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.gateway import write_config
from tests.support.shadow import LIVE, write_mappings
from tests.unit.test_config import load

DOCS = Path(__file__).resolve().parents[2] / "docs"
SYSTEMS = "systems:\n  erp: {api_key: k-0123456789}\n  mes: {}\n  mes-cloud: {}\n"
ENV = {f"{name}_URL": "http://h" for name in ("MES", "MES_V2", "MES_V2_TEST", "MES_CLOUD",
                                               "MES_CLOUD_TEST")}  # fmt: skip


def example(doc: str, heading: str) -> str:
    """The first ``yaml`` block after ``heading`` in ``doc``."""
    text = (DOCS / doc).read_text(encoding="utf-8")
    after = text[text.index(heading) :]
    found = re.search(r"```yaml\n(.*?)```", after, re.DOTALL)
    assert found is not None, heading
    return found.group(1)


@pytest.mark.parametrize(
    ("doc", "heading"),
    [
        ("configuration.md", "### A parallel run before go-live"),
        ("operations.md", "## Parallel run before go-live"),
    ],
)
def test_the_documented_example_loads(tmp_path: Path, doc: str, heading: str) -> None:
    targets = "\n".join(f"    {line}" for line in example(doc, heading).splitlines())
    interfaces = f"interfaces:\n  sales-order:\n    source: erp\n    message_type: so\n{targets}\n"
    write_config(tmp_path, interfaces, SYSTEMS)
    write_mappings(
        tmp_path,
        sales_order_to_mes=LIVE,
        sales_order_to_mes_v2=LIVE,
        sales_order_to_mes_cloud=LIVE.replace("target: mes", "target: mes-cloud"),
    )
    config = load(tmp_path, ENV)
    assert sorted((s.kind, s.name, s.live) for s in config.shadows)[0] == ("mapping", "mes", "mes")
    assert {s.kind for s in config.shadows} == {"mapping", "target"}
