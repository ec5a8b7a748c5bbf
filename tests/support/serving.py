"""Moved to :mod:`esb.testing.served` (shipped, so plugins' own tests serve the same way)."""

from esb.testing.served import Served, bind, free_port

__all__ = ["Served", "bind", "free_port"]
