"""A gateway process: its parts and their one lifecycle (see ``runtime.gateway``)."""

from esb.runtime.gateway import Gateway

__all__ = ["Gateway"]
