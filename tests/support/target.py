"""Moved to :mod:`esb.testing.target` (shipped, so plugins' own tests use the same server)."""

from esb.testing.target import Received, TargetServer

__all__ = ["Received", "TargetServer"]
