"""What ``esb.testing`` offers plugin authors is pinned; it needs none of the repository's tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import esb.testing

EXPORTED = {
    "ConnectorContract", "ConnectorHarness", "ConnectorRegistry", "ListApiServer", "Offered",
    "Pulled", "Received",
    "Reply", "Served", "SourceContract", "SourceHarness", "StandInGateway", "TargetServer",
    "delivery_request", "serve_source",
}  # fmt: skip


def test_the_public_names_are_pinned() -> None:
    assert set(esb.testing.__all__) == EXPORTED
    for name in EXPORTED:
        assert getattr(esb.testing, name) is not None


def test_it_imports_nothing_of_the_repository_tests(tmp_path: Path) -> None:
    probe = "import esb.testing, sys; print(sorted(m for m in sys.modules if m[:5] == 'tests'))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True, cwd=tmp_path)  # fmt: skip
    assert done.stdout.strip() == "[]"
