"""The README's option table is the one the config model renders now."""

from __future__ import annotations

from pathlib import Path

from esb_file import FileConfig
from esb_soap.options_doc import options_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_lists_every_option_as_the_model_says() -> None:
    table = options_table(FileConfig)
    assert table in README.read_text(), (
        "adapters/esb_file/README.md is stale: paste "
        "`python -c 'from esb_soap.options_doc import options_table; from esb_file import "
        "FileConfig; print(options_table(FileConfig))'` between the generated markers"
    )
    for name in FileConfig.model_fields:
        assert name == "kind" or f"`{name}`" in table
