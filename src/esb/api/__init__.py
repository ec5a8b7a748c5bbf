"""The HTTP API."""

from esb.api.app import create_app

__all__ = ["create_app"]
