"""The dashboard's files, read from the package once, with a strong ETag and a gzip copy."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib import resources

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
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
    """Every .html, .css and .js file of this package, by file name."""
    folder = resources.files("esb.dashboard")
    return {
        entry.name: _asset(entry.name, entry.read_bytes())
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(tuple(MEDIA_TYPES))
    }
