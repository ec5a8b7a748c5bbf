"""The errors a plugin raises or catches: the gateway's own, and ``PluginError`` for its own.

    EsbError                      (esb.errors: the gateway's one tree)
    ├── ConfigError               a configuration file is wrong
    ├── RequestError ...          Unauthenticated 401, Forbidden 403, PayloadTooLarge 413,
    │                             ValidationFailed 422 (every offending FieldProblem)
    ├── StoreUnavailable          the database is away: try again later
    └── PluginError               base of an adapter's own exceptions

A connector never raises for a target's failure (it returns ``RetryLater``/``Park``);
an inbound source raises ``PluginError`` subclasses for what is its own business.
"""

from __future__ import annotations

from esb.errors import (
    ConfigError,
    EsbError,
    FieldProblem,
    Forbidden,
    PayloadTooLarge,
    PluginError,
    StoreUnavailable,
    Unauthenticated,
    ValidationFailed,
)

__all__ = [
    "ConfigError",
    "EsbError",
    "FieldProblem",
    "Forbidden",
    "PayloadTooLarge",
    "PluginError",
    "StoreUnavailable",
    "Unauthenticated",
    "ValidationFailed",
]
