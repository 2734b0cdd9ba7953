"""The share link: an invoice's own page and its PDF, for whoever holds the link.

No API key: the unguessable token in the path is the credential. The first view of a sent
invoice records it as viewed. These pages have their own per-address rate limit, so a
token cannot be guessed by brute force and a shared link cannot be used to load the server.
What the pages show, and their headers, are in ``gateway.share.page``.
"""

from uuid import UUID

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from domain.errors import NotFound
from domain.integrity import Unverified
from gateway.dashboard.i18n import negotiate
from gateway.http.calls import call, usecases_of
from gateway.http.downloads import pdf_response
from gateway.http.ratelimit import RateLimiter
from gateway.share.page import NOT_FOUND, TOO_MANY, UNVERIFIED, invoice_page, message_page
from usecases.views import ClientView


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.share_limiter
    return limiter


def _readers_language(request: Request) -> str:
    """Where no invoice says the language, the reader's browser does."""
    return negotiate(request.headers.get("accept-language"))


async def _allowed(request: Request) -> Response | None:
    """A 429 page when this address has used its budget for share pages, else None."""
    client = request.client
    budget = await _limiter(request).spend(f"share:{client.host if client else 'unknown'}")
    if budget.allowed:
        return None
    response = message_page(_readers_language(request), 429, TOO_MANY)
    response.headers.update(budget.headers())
    return response


def _not_found(request: Request) -> HTMLResponse:
    return message_page(_readers_language(request), 404, NOT_FOUND)


def _unverified(request: Request) -> HTMLResponse:
    """A record whose stored history does not verify is never shown (it is logged and on
    /healthz for the operator); the reader gets a page, as the dashboard's, never JSON."""
    return message_page(_readers_language(request), 503, UNVERIFIED)


async def shared_invoice(request: Request) -> Response:
    refused = await _allowed(request)
    if refused is not None:
        return refused
    usecases = usecases_of(request)
    try:
        shared = await call(usecases.sharing.open, request.path_params["token"])
    except Unverified:
        return _unverified(request)
    if shared is None:
        return _not_found(request)
    invoice = shared.invoice
    # the client's current details, as the PDF shows them (Shared carries the invoice row's only)
    try:
        client: ClientView | None = await call(usecases.clients.get, UUID(invoice.account_id), UUID(invoice.client_id))
    except NotFound:
        client = None
    return invoice_page(invoice, shared.seller, client, f"{request.url.path}/pdf")


async def shared_pdf(request: Request) -> Response:
    refused = await _allowed(request)
    if refused is not None:
        return refused
    try:
        pdf = await call(usecases_of(request).sharing.pdf, request.path_params["token"])
    except Unverified:
        return _unverified(request)
    if pdf is None:
        return _not_found(request)
    response = pdf_response(request, pdf)
    # a download, never shown inside another site's page (CSP Level 3 frame-ancestors; RFC 7034)
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    response.headers["X-Frame-Options"] = "DENY"
    return response


ROUTES = [
    Route("/i/{token}", shared_invoice, methods=["GET"]),
    Route("/i/{token}/pdf", shared_pdf, methods=["GET"]),
]
