"""GraphiQL at ``GET /graphql`` in a browser, every byte of it served by the service itself.

What a README needs:

- Open http://127.0.0.1:8000/graphql in a browser: GraphiQL 4.1.2 (on React 18.3.1), with
  ``{"Authorization": "Bearer cinv_..."}`` to complete in its Headers tab. Until a key is
  there the page sends nothing (the service would refuse it) and says where the key goes;
  once one is typed, it loads the schema. The headers stay with the tab: they are not
  saved in the browser, nor put in the address bar. The Docs panel shows the schema (while
  introspection is on).
- The page loads nothing from elsewhere: its scripts and styles are vendored under
  ``gateway/graphql/static/`` (``SOURCES.md`` there has versions, checksums, licences and
  how to update them) and served at ``/graphql/static/<name>?v=<hash>``, cached for a year
  as immutable (a new content gets a new ``v``) and gzipped for clients that accept it.
  The page itself is sent with a Content-Security-Policy that allows scripts only from
  this origin, and connections only back to it.

How it plugs in: add :func:`graphiql_routes` to the app's routes, and have the GraphQL view
answer a browser with :func:`graphiql_response` (a view derived from :class:`LocalGraphiQL`
does). Neither the page nor its assets hold data, so both are to be served without an API
key (the queries the page sends carry the key from its Headers tab).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from gateway.http.assets import Asset, asset_response

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
STATIC_PATH = "/graphql/static"
PAGE = HERE / "graphiql.html"

_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
_TEXT = "text/plain; charset=utf-8"
# Everything /graphql/static serves: nothing else in that folder is reachable.
ASSETS: Mapping[str, str] = {
    "graphiql-4.1.2.min.js": _JS,
    "graphiql-4.1.2.min.css": _CSS,
    "react-18.3.1.production.min.js": _JS,
    "react-dom-18.3.1.production.min.js": _JS,
    "graphiql-page.js": _JS,
    "graphiql-page.css": _CSS,
    "LICENSE-graphiql.txt": _TEXT,
    "LICENSE-react.txt": _TEXT,
    "LICENSE-react-dom.txt": _TEXT,
}
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # GraphiQL's components set inline styles
        "img-src 'self' data:",
        "font-src 'self' data:",  # GraphiQL's fonts are inlined in its stylesheet
        "connect-src 'self'",  # queries over HTTP, subscriptions over a websocket to this host
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
_PLACEHOLDER = re.compile(r"\{\{(asset:([A-Za-z0-9.-]+)|endpoint)\}\}")


@functools.cache
def load_asset(name: str) -> Asset:
    """One of :data:`ASSETS`, read and compressed once."""
    body = (STATIC_DIR / name).read_bytes()
    return Asset.of(body, ASSETS[name])


def asset_url(name: str) -> str:
    """The URL of an asset, with its content's hash so a browser may cache it for good."""
    return f"{STATIC_PATH}/{name}?v={load_asset(name).version}"


@functools.cache
def graphiql_html(endpoint: str = "/graphql") -> str:
    """The page, its asset URLs filled in, talking to ``endpoint``."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(2)
        return asset_url(name) if name else html.escape(endpoint)

    return _PLACEHOLDER.sub(fill, PAGE.read_text(encoding="utf-8"))


def graphiql_response(request: Request | None = None, endpoint: str | None = None) -> HTMLResponse:
    """The GraphiQL page, for a browser's ``GET`` of the GraphQL endpoint (``endpoint``,
    else the path of ``request``, else ``/graphql``)."""
    path = endpoint or (request.url.path if request is not None else "/graphql")
    return HTMLResponse(
        graphiql_html(path),
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


async def static_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        raise HTTPException(404)
    asset = await run_in_threadpool(load_asset, name)  # the first time reads and compresses
    return asset_response(request, asset)


def graphiql_routes() -> list[Route]:
    """The routes of GraphiQL's assets (the page itself is the GraphQL view's answer)."""
    return [Route(STATIC_PATH + "/{name}", static_asset, methods=["GET"], name="graphiql_asset")]


ContextT = TypeVar("ContextT")
RootValueT = TypeVar("RootValueT")


class LocalGraphiQL(GraphQL[ContextT, RootValueT]):
    """strawberry's ASGI view, answering a browser with this service's own GraphiQL page
    (strawberry's would load it from a CDN)."""

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_response(request)
