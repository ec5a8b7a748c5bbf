"""Configuration of systems, interfaces and (later) mappings, loaded from a folder of YAML."""

from esb.config.loader import GatewayConfig, hash_key, load_config
from esb.config.types import Duration, RetryPolicy, StrictModel, Timeouts

__all__ = [
    "Duration",
    "GatewayConfig",
    "RetryPolicy",
    "StrictModel",
    "Timeouts",
    "hash_key",
    "load_config",
]
