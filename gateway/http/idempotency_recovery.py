"""The answer of a keyed REST request whose process died after its command committed and
before its answer was kept, rebuilt from the events it recorded.

Each POST under /api/v1 answers with the record it changed, read back right after the
change; here that record is read as it was at the version the request's events made
(``projections.past``: the very views the read model serves, tested equal to them), and
rendered as the route renders it (the REST door gives its ``Answers``:
``gateway.rest.recovery``). So a retry gets the first answer's status and body, not the
record as later changes left it.
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from starlette.requests import Request
from starlette.types import Scope

from domain.client import Client
from gateway.http import etags
from gateway.http.calls import public_url
from gateway.http.jsonio import JSONResponse, error_response
from gateway.services import Services
from projections.marked_events import MarkedEvent
from projections.past import Past, client_view
from storage.idempotency import StoredResponse
from usecases.lifecycle import PaymentAnswer
from usecases.views import AccountView, ClientView, InvoiceDetail

log = logging.getLogger("cleverinvo")
LOST = (
    "This request took effect before the service restarted, but its answer could not be made again; "
    "read the record instead of retrying"
)
ON_INVOICE = re.compile(r"^/api/v1/invoices/([^/]+)/(send|void|payments)$")


@dataclass(frozen=True)
class Answers:
    """The bodies the REST door answers a keyed write with (``gateway.rest.recovery``):
    a client created, an invoice's detail (with where share links point), a payment."""

    client: Callable[[ClientView], object]
    invoice: Callable[[InvoiceDetail, str, ClientView | None, AccountView | None], object]
    payment: Callable[[PaymentAnswer], object]


Rebuilder = Callable[[Services, Scope, UUID, list[MarkedEvent], Answers], JSONResponse | None]


def _kept(response: JSONResponse) -> StoredResponse:
    body = bytes(response.body)
    headers = [(name, response.headers[name]) for name in ("content-type", "etag") if name in response.headers]
    return StoredResponse(response.status_code, headers, body)


def _tagged(response: JSONResponse, version: int) -> JSONResponse:
    """With the ETag the route gives the same answer (gateway/http/etags.py)."""
    response.headers["ETag"] = etags.tag(version, bytes(response.body))
    return response


def _first(marked: list[MarkedEvent], kind: str, aggregate: UUID | None = None) -> MarkedEvent | None:
    return next(
        (m for m in marked if m.kind == kind and (aggregate is None or m.aggregate_id == aggregate)),
        None,
    )


def _client(
    services: Services, _scope: Scope, account: UUID, marked: list[MarkedEvent], answers: Answers
) -> JSONResponse | None:
    created = _first(marked, "Client.ClientCreated")
    if created is None:
        return None
    client = Past(services.app).load(Client, created.aggregate_id, created.version)
    if client is None or client.account_id != account:
        return None
    return JSONResponse(answers.client(client_view(client)), status_code=201)


def _invoice(
    services: Services, scope: Scope, account: UUID, marked: list[MarkedEvent], answers: Answers
) -> JSONResponse | None:
    created = _first(marked, "Invoice.InvoiceCreated")
    if created is None:
        return None
    then = Past(services.app).invoice(account, created.aggregate_id, version=created.version)
    if then is None:
        return None
    # the detail, as every write of an invoice answers it (gateway/rest/routes.py invoice_written)
    detail = answers.invoice(then.invoice, public_url(Request(scope)), then.client, then.account)
    return _tagged(JSONResponse(detail, status_code=201), then.invoice.version)


def _on_invoice(
    services: Services, scope: Scope, account: UUID, marked: list[MarkedEvent], answers: Answers
) -> JSONResponse | None:
    """send, void (the detail) and payments (the payment with where the invoice stands)."""
    found = ON_INVOICE.match(scope["path"])
    assert found is not None  # chosen by this very pattern
    try:
        invoice_id = UUID(found.group(1))
    except ValueError:
        return None
    own = [m for m in marked if m.aggregate_id == invoice_id]
    if not own:
        return None
    then = Past(services.app).invoice(account, invoice_id, version=own[-1].version)
    if then is None:
        return None
    if found.group(2) != "payments":
        detail = answers.invoice(then.invoice, public_url(Request(scope)), then.client, then.account)
        return _tagged(JSONResponse(detail), then.invoice.version)
    recorded = _first(own, "Invoice.PaymentRecorded")
    paid = str(recorded.field("payment_id")) if recorded else None
    payment = next((p for p in then.payments if p.id == paid), None)
    if payment is None:
        return None
    answer = answers.payment(PaymentAnswer(payment, then.invoice))
    return JSONResponse(answer, status_code=201)


def _rebuilder(path: str) -> Rebuilder | None:
    if path == "/api/v1/clients":
        return _client
    if path == "/api/v1/invoices":
        return _invoice
    if ON_INVOICE.match(path):
        return _on_invoice
    return None


def rebuild(
    services: Services, scope: Scope, account: UUID, marked: list[MarkedEvent], answers: Answers
) -> StoredResponse:
    """The answer the request would have had, from the events it recorded (``marked``,
    never empty); a 409 saying so when no answer can be made of them."""
    rebuilder = _rebuilder(scope["path"])
    try:
        response = rebuilder(services, scope, account, marked, answers) if rebuilder else None
    except Exception:  # the 409 below is kept all the same: the request must not run again
        log.exception("Could not rebuild the answer of %s %s from its events", scope["method"], scope["path"])
        response = None
    return _kept(response if response is not None else error_response(409, LOST, code="CONFLICT"))
