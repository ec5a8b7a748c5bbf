"""The README's option tables are the ones the config models render now."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from esb.sdk import options_table
from esb_file import FileConfig, FileDropConfig

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("model", [FileConfig, FileDropConfig])
def test_readme_lists_every_option_as_the_model_says(model: type[BaseModel]) -> None:
    table = options_table(model)
    assert table in README.read_text(), (
        "adapters/esb_file/README.md is stale: paste "
        "`python -c 'from esb.sdk import options_table; from esb_file import "
        f"{model.__name__}; print(options_table({model.__name__}))'` between its generated markers"
    )
    for name in model.model_fields:
        assert name == "kind" or f"`{name}`" in table
