"""Pages from templates (Jinja, autoescaped, one environment per language) and the
dashboard's own static files (its stylesheet and script, served with a content hash)."""

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from domain.invoice import TEXTS
from gateway.dashboard.i18n import EMAIL_STATES, PLAN_NAMES, STATUS_NAMES
from gateway.dashboard.security import PAGE_HEADERS, PATH
from translations import catalog
from usecases.wire_names import wire_name

STATIC_DIR = Path(__file__).parent / "static"
YEAR = 365 * 24 * 3600
ASSETS: Mapping[str, str] = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    etag: str
    media_type: str


@functools.cache
def asset(name: str) -> Asset:
    body = (STATIC_DIR / name).read_bytes()
    return Asset(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"', ASSETS[name])


def static_url(name: str) -> str:
    return f"{PATH}/static/{name}?v={asset(name).etag.strip(chr(34))[:12]}"


@functools.cache
def environment(locale: str) -> Environment:
    env = Environment(
        loader=PackageLoader("gateway.dashboard", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(catalog(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(static=static_url, statuses=STATUS_NAMES, plans=PLAN_NAMES, email_states=EMAIL_STATES)
    env.globals.update(invoice_texts=[(text, wire_name(text.name)) for text in TEXTS])  # domain.invoice.TEXTS
    return env


def render(template: str, context: Mapping[str, Any], locale: str, status: int = 200) -> HTMLResponse:
    html = environment(locale).get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


async def static_file(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        raise HTTPException(404)
    found = asset(name)
    headers = {
        "Cache-Control": f"public, max-age={YEAR}, immutable",
        "ETag": found.etag,
        "X-Content-Type-Options": "nosniff",
    }
    if found.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)
