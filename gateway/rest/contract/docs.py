"""``/docs``: Swagger UI for ``/api/v1/openapi.json``, every byte served by the service.

Swagger UI's files come from the ``flask-swagger-ui`` package, which ships Swagger UI's
own distribution (its version names the Swagger UI it holds; ``dist/VERSION``). Only the
files below are read from it; Flask is never imported. The page and its own script and
style are here (``docs.html``, ``static/``). The page is sent with a Content-Security-Policy
that allows scripts only from this origin and connections only back to it; the assets are
served at ``/docs/static/<name>?v=<hash>``, cached for a year as immutable and gzipped for
clients that accept it. Neither the page nor its assets hold data: no key is needed (the
requests "Try it out" sends carry the key typed in "Authorize").
"""

import functools
import html
import importlib.util
import re
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from gateway.http.assets import Asset, asset_response
from gateway.rest.contract.openapi import PATH as DOCUMENT

HERE = Path(__file__).parent
PAGE = HERE / "docs.html"
STATIC_PATH = "/docs/static"


def swagger_ui_dist() -> Path:
    """Swagger UI's distribution as flask-swagger-ui ships it (found, not imported)."""
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("flask-swagger-ui is not installed: /docs has no Swagger UI to serve")
    return Path(next(iter(spec.submodule_search_locations))) / "dist"


_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
_TEXT = "text/plain; charset=utf-8"
# name -> (its folder, media type): nothing else is reachable under /docs/static.
ASSETS: dict[str, tuple[str, str]] = {
    "swagger-ui-bundle.js": ("dist", _JS),
    "swagger-ui.css": ("dist", _CSS),
    "LICENSE": ("dist", _TEXT),
    "VERSION": ("dist", _TEXT),
    "docs-page.js": ("static", _JS),
    "docs-page.css": ("static", _CSS),
}
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # Swagger UI's components set inline styles
        "img-src 'self' data:",  # its icons are inlined in its stylesheet
        "font-src 'self' data:",
        "connect-src 'self'",  # the document and "Try it out", to this origin only
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_PLACEHOLDER = re.compile(r"\{\{(asset:([A-Za-z0-9.-]+)|document)\}\}")


@functools.cache
def load_asset(name: str) -> Asset:
    folder, media_type = ASSETS[name]
    body = ((swagger_ui_dist() if folder == "dist" else HERE / "static") / name).read_bytes()
    return Asset.of(body, media_type)


def swagger_ui_version() -> str:
    return load_asset("VERSION").body.decode().strip().removeprefix("v")


@functools.cache
def page_html() -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(2)
        if name is None:
            return html.escape(DOCUMENT)
        return f"{STATIC_PATH}/{name}?v={load_asset(name).etag.strip(chr(34))[:12]}"

    return _PLACEHOLDER.sub(fill, PAGE.read_text(encoding="utf-8"))


async def docs_page(_request: Request) -> Response:
    return HTMLResponse(await run_in_threadpool(page_html), headers=PAGE_HEADERS)


async def docs_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        raise HTTPException(404)
    asset = await run_in_threadpool(load_asset, name)  # the first time reads and compresses
    return asset_response(request, asset)


ROUTES = [
    Route("/docs", docs_page, methods=["GET"]),
    Route(STATIC_PATH + "/{name}", docs_asset, methods=["GET"]),
]
