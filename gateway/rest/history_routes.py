"""REST endpoints of the auditor's reads: a record's history, the account's feed, the
ledger's digest. (An invoice as it was is ``?version=``/``?asOf=`` on its own routes.)"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http.jsonio import JSONResponse
from gateway.rest import params, render
from gateway.rest.handling import account_of, call, path_uuid, usecases_of


async def invoice_history(request: Request) -> Response:
    invoice_id = path_uuid(request, "invoice_id", "Invoice not found")
    params.none(request.query_params)
    entries = await call(usecases_of(request).auditing.invoice_history, account_of(request), invoice_id)
    return JSONResponse(render.history("invoice", entries))


async def client_history(request: Request) -> Response:
    client_id = path_uuid(request, "client_id", "Client not found")
    params.none(request.query_params)
    entries = await call(usecases_of(request).auditing.client_history, account_of(request), client_id)
    return JSONResponse(render.history("client", entries))


async def events_feed(request: Request) -> Response:
    after, limit = params.feed_params(request.query_params)
    page = await call(usecases_of(request).auditing.feed, account_of(request), after, limit)
    return JSONResponse(render.feed(page.data, page.next))


async def ledger_digest(request: Request) -> Response:
    """``{"accountId", "position", "digest", "at"}``: what an auditor keeps, to prove later
    with ``cleverinvo ledger verify --digests`` that nothing at or before it changed.
    Not wrapped in ``data``: the body is kept as it is."""
    account = account_of(request)
    params.none(request.query_params)
    digest = await call(usecases_of(request).auditing.digest, account)
    return JSONResponse(render.digest(str(account), digest))


ROUTES = [
    Route("/api/v1/invoices/{invoice_id}/history", invoice_history, methods=["GET"]),
    Route("/api/v1/clients/{client_id}/history", client_history, methods=["GET"]),
    Route("/api/v1/events", events_feed, methods=["GET"]),
    Route("/api/v1/ledger/digest", ledger_digest, methods=["GET"]),
]
