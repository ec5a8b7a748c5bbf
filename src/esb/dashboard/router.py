"""``GET /dashboard`` and its assets: conditional GETs (ETag), gzip, a strict CSP.

The page holds no data; everything it shows comes from the admin API, called by
the browser with the key the operator typed in. So the page itself needs no key.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from esb.dashboard.assets import Asset, load_assets
from esb.errors import NotFound

PAGE = "index.html"
# Only this gateway's own files and API: no inline script, no other origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


def _matches(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match", "")
    return etag in (tag.strip().removeprefix("W/") for tag in wanted.split(","))


def serve(asset: Asset, request: Request) -> Response:
    """Revalidated on every load (no-cache), so a new gateway version shows at once."""
    headers = {
        "ETag": asset.etag,
        "Cache-Control": "no-cache",
        "Vary": "Accept-Encoding",
        **SECURITY_HEADERS,
    }
    if _matches(request, asset.etag):
        return Response(status_code=304, headers=headers)
    body = asset.body
    if _accepts_gzip(request) and len(asset.gzipped) < len(body):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=asset.media_type, headers=headers)


def dashboard_router() -> APIRouter:
    """A router over the package's files as they are now (read once, here)."""
    assets = load_assets()
    router = APIRouter(include_in_schema=False)

    # HEAD too: uptime checks and wall-screen launchers probe the page before opening it
    @router.api_route("/dashboard", methods=["GET", "HEAD"])
    async def page(request: Request) -> Response:
        return serve(assets[PAGE], request)

    @router.api_route("/dashboard/i18n/{name}", methods=["GET", "HEAD"])
    async def catalogue(name: str, request: Request) -> Response:
        found = assets.get(f"i18n/{name}")
        if found is None:
            raise NotFound(f"no catalogue {name}")
        return serve(found, request)

    @router.api_route("/dashboard/{name}", methods=["GET", "HEAD"])
    async def asset(name: str, request: Request) -> Response:
        found = assets.get(name)
        if found is None or name == PAGE:
            raise NotFound(f"no dashboard file {name}")
        return serve(found, request)

    return router
