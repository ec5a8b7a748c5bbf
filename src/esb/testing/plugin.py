"""The pytest plugin (entry point ``pytest11``): loaded by pytest wherever esb is installed.

It only adds fixtures; the contract tests run where a test module subclasses
:class:`esb.testing.ConnectorContract` or :class:`esb.testing.SourceContract`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from esb.connectors import ConnectorRegistry


@pytest.fixture(scope="session")
def esb_registry() -> ConnectorRegistry:
    """The connectors and sources installed through their entry points, built-ins too."""
    from esb.connectors import load_registry

    return load_registry()
