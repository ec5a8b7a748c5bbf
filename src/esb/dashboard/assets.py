"""The dashboard's files, read from the package once, with a strong ETag and a gzip copy."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib import resources

from esb.i18n import LANGUAGES

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
}


@dataclass(frozen=True)
class Asset:
    name: str
    media_type: str
    body: bytes
    gzipped: bytes
    etag: str


def _asset(name: str, body: bytes) -> Asset:
    media_type = MEDIA_TYPES[name[name.rfind(".") :]]
    digest = hashlib.sha256(body).hexdigest()[:20]
    # mtime=0: the same file always compresses to the same bytes
    return Asset(name, media_type, body, gzip.compress(body, 9, mtime=0), f'"{digest}"')


def load_assets() -> dict[str, Asset]:
    """Every .html, .css and .js file of this package by file name, and the message
    catalogues of ``esb.i18n`` as ``i18n/<language>.json``."""
    folder = resources.files("esb.dashboard")
    assets = {
        entry.name: _asset(entry.name, entry.read_bytes())
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith((".html", ".css", ".js"))
    }
    for lang in LANGUAGES:
        name = f"i18n/{lang}.json"
        assets[name] = _asset(
            name, resources.files("esb.i18n").joinpath(f"{lang}.json").read_bytes()
        )
    return assets
