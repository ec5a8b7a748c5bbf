"""The operator dashboard: one page and its static assets, served by the gateway itself.

No build step and nothing fetched from elsewhere: hand-written HTML, CSS and ES
modules are package files, read once when the app is built.
"""

from esb.dashboard.router import dashboard_router

__all__ = ["dashboard_router"]
