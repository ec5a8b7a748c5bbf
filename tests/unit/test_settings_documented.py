"""Every setting (an ``ESB_*`` variable) is documented in docs/configuration.md."""

from __future__ import annotations

from pathlib import Path

from esb.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_esb_variable_is_in_the_configuration_reference() -> None:
    text = DOC.read_text(encoding="utf-8")
    reference = text[text.index("## Environment") :]
    missing = [
        f"ESB_{name.upper()}"
        for name in Settings.model_fields
        if f"`ESB_{name.upper()}`" not in reference
    ]
    assert missing == [], f"document these in docs/configuration.md: {missing}"
