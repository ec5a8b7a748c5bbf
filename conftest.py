"""Shared pytest fixtures for tests/ and each adapter's own tests (adapters/*/tests)."""

pytest_plugins = ["tests.support.fixtures", "tests.support.mes_db"]
