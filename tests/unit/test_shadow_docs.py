"""The ``shadow:`` examples of docs/configuration.md, docs/operations.md and the Chinese
guide's docs/zh/parallel-run.md pass the checks ``esb check`` runs (a documented example
that does not load is a trap)."""

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


def examples(doc: str, heading: str) -> list[str]:
    """The ``yaml`` blocks after ``heading`` in ``doc``, up to its next heading of that level."""
    text = (DOCS / doc).read_text(encoding="utf-8")
    after = text[text.index(heading) + len(heading) :]
    level = heading.split(" ")[0]
    section = re.split(rf"^{level} ", after, flags=re.MULTILINE)[0]
    found = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert found, heading
    return found


def example(doc: str, heading: str) -> str:
    """The first ``yaml`` block after ``heading`` in ``doc``."""
    return examples(doc, heading)[0]


def _mappings(folder: Path) -> None:
    write_mappings(
        folder,
        sales_order_to_mes=LIVE,
        sales_order_to_mes_v2=LIVE,
        sales_order_to_mes_cloud=LIVE.replace("target: mes", "target: mes-cloud"),
    )


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
    _mappings(tmp_path)
    config = load(tmp_path, ENV)
    assert sorted((s.kind, s.name, s.live) for s in config.shadows)[0] == ("mapping", "mes", "mes")
    assert {s.kind for s in config.shadows} == {"mapping", "target"}


def test_the_chinese_guide_s_examples_load(tmp_path: Path) -> None:
    """docs/zh/parallel-run.md writes each kind as a whole ``interfaces:`` block of its own:
    a candidate mapping, then a new target (``system: mes``) standing for the one it replaces."""
    kinds: list[tuple[str, str, str]] = []
    for number, block in enumerate(examples("zh/parallel-run.md", "## 两种试运行")):
        assert block.startswith("interfaces:\n  sales-order:\n"), block
        interfaces = block.replace(
            "  sales-order:\n", "  sales-order:\n    source: erp\n    message_type: so\n", 1
        )
        folder = tmp_path / str(number)
        write_config(folder, interfaces, SYSTEMS)
        _mappings(folder)
        (shadow,) = load(folder, ENV).shadows
        kinds.append((shadow.kind, shadow.name, shadow.live))
    assert kinds == [("mapping", "mes", "mes"), ("target", "mes-v2", "mes")]
