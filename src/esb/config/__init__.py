"""Configuration of systems, interfaces and mappings, loaded from a folder of YAML.

The loader lives in ``esb.config.loader``; it is not imported here so that
``esb.config.types`` (shared by every connector) never pulls the loader in.
"""

from esb.config.types import Duration, RetryPolicy, StrictModel, Timeouts

__all__ = ["Duration", "RetryPolicy", "StrictModel", "Timeouts"]
