"""Static files a page of ours loads (GraphiQL's, /docs'): read and gzipped once, named by
their content's hash, cached by browsers for a year as immutable."""

import gzip
import hashlib
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    media_type: str

    @classmethod
    def of(cls, body: bytes, media_type: str) -> "Asset":
        digest = hashlib.sha256(body).hexdigest()
        return cls(body, gzip.compress(body, compresslevel=9, mtime=0), f'"{digest[:32]}"', media_type)

    @property
    def version(self) -> str:
        return self.etag.strip('"')[:12]


def accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            quality = params.strip().lower().removeprefix("q=")
            return not quality or quality.strip("0.") != ""
    return False


def asset_response(request: Request, asset: Asset) -> Response:
    """The asset, gzipped when the client takes it, or 304 when it has this version."""
    headers = {
        "Cache-Control": f"public, max-age={YEAR}, immutable",
        "ETag": asset.etag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        return Response(asset.gzipped, media_type=asset.media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(asset.body, media_type=asset.media_type, headers=headers)
