"""Checks both suites make of a plugin's config model: strict, round-tripping, documented,
and never showing a secret."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
from pydantic import BaseModel

from esb.sdk import options_table

__all__ = ["check_options_documented", "check_round_trip", "check_secret_hidden"]


def check_round_trip(model: type[BaseModel], options: Mapping[str, Any]) -> None:
    """The options pass the model's JSON Schema (what editors check as people type) and the
    model; the config dumped and read again is the same config, and its JSON dump passes
    the schema too."""
    schema = model.model_json_schema()
    written = {**options, "kind": model.model_fields["kind"].default}
    jsonschema.validate(written, schema)
    config = model.model_validate(written)
    assert model.model_validate(config.model_dump()) == config
    jsonschema.validate(config.model_dump(mode="json", by_alias=True), schema)


def check_options_documented(model: type[BaseModel], readme: Path | None, what: str) -> None:
    """Every option has a row in the generated table, and ``readme`` embeds that table."""
    table = options_table(model)
    missing = [name for name in model.model_fields if name != "kind" and f"`{name}`" not in table]
    assert not missing, f"options missing from the table: {missing}"
    if readme is not None:
        command = f"python -m esb.testing.table {what}"
        assert table in readme.read_text(encoding="utf-8"), (
            f"{readme.name} does not show the options as the model has them now: paste "
            f"the output of `{command}` into it"
        )


def check_secret_hidden(secret: str, config: BaseModel, shown: list[str]) -> None:
    """Neither the config's own text nor anything ``shown`` (logs, outcomes, replies)
    holds ``secret``."""
    texts = [repr(config), str(config), config.model_dump_json(), *shown]
    leaked = [text[:300] for text in texts if secret in text]
    assert not leaked, f"the secret shows in: {leaked}"
