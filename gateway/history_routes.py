"""The auditor's reads: a record's history, an invoice as it was, the account's feed."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.errors import NotFound
from domain.ledger import account_of_first
from gateway import params, render
from gateway.downloads import not_modified, pdf_response
from gateway.handling import account_of, path_uuid, public_url, services_of
from gateway.history import CLIENT, INVOICE, Kind, Narrator, kind_of, narrate
from gateway.jsonio import JSONResponse
from gateway.services import Services
from pdf.service import etag
from projections.past import Past, PastInvoice

FEED_LIMIT, FEED_MAX = 100, 500


# --- history ----------------------------------------------------------------------------


def _history(services: Services, account: UUID, record_id: UUID, kind: Kind) -> list[dict[str, Any]] | None:
    """Every event of the account's record, told oldest first; None if it has no such record.
    A deleted invoice's history stays readable: deleting is one more event."""
    events = services.app.sealed_events(record_id)
    if not events:
        return None
    first = events[0][0]
    if kind_of(first) is not kind:
        return None
    if account_of_first(first) != str(account):
        return None
    return list(narrate(kind, events))


def _history_route(kind: Kind, missing: str) -> Callable[[Request], Any]:
    async def history(request: Request) -> Response:
        services, account = services_of(request), account_of(request)
        record_id = path_uuid(request, f"{kind.name}_id", missing)
        entries = await run_in_threadpool(_history, services, account, record_id, kind)
        if entries is None:
            raise NotFound(missing)
        return JSONResponse({"data": entries})

    return history


# --- an invoice as it was ------------------------------------------------------------------


def _not_then(past: params.PastParams) -> NotFound:
    if past.version is not None:
        return NotFound(f"Invoice not found at version {past.version}")
    return NotFound(f"Invoice not found as of {render.timestamp(past.as_of)}")


async def _past(request: Request, account: UUID, invoice_id: UUID, past: params.PastParams) -> PastInvoice:
    reader = Past(services_of(request).app)
    found = await run_in_threadpool(
        lambda: reader.invoice(account, invoice_id, version=past.version, moment=past.as_of)
    )
    if found is None:
        raise _not_then(past)
    return found


async def past_detail_response(request: Request, account: UUID, invoice_id: UUID, past: params.PastParams) -> Response:
    """``GET /invoices/{id}?version=N`` or ``?asOf=T``: the detail as it was, rebuilt from events."""
    then = await _past(request, account, invoice_id, past)
    return JSONResponse({"data": render.invoice_detail(then.invoice, public_url(request), then.client, then.account)})


async def past_pdf_response(request: Request, account: UUID, invoice_id: UUID, past: params.PastParams) -> Response:
    """``GET /invoices/{id}/pdf?version=N``: that version rendered (not cached)."""
    services = services_of(request)
    then = await _past(request, account, invoice_id, past)
    if then.account is None:
        raise _not_then(past)
    source = services.pdfs.document(then.invoice, then.client, then.account)
    unchanged = not_modified(request, etag(source))
    if unchanged is not None:
        return unchanged
    pdf = await run_in_threadpool(services.pdfs.render_past, source)
    return pdf_response(request, pdf)


# --- the account's feed ------------------------------------------------------------------


def _feed(services: Services, account: UUID, after: int, limit: int) -> dict[str, Any]:
    """The account's invoice, client and account events after ``after``, in commit order.

    Positions come from the ledger follower's index, which grows only as a prefix of the
    commit order: following ``next`` from 0 sees every event once, never a gap or a repeat.
    Bookkeeping events (quotas, number indexes) are passed over, so ``next`` may run ahead
    of the last position returned."""
    services.ledger.catch_up()
    picked: list[tuple[int, Kind, Any, dict[str, Any] | None]] = []
    cursor = after
    while len(picked) < limit:
        positions = services.ledger.feed(str(account), cursor, limit)
        for position in positions:
            cursor = position
            sealed = services.app.sealed_event(position)
            kind = kind_of(sealed[0]) if sealed else None
            if sealed is not None and kind is not None:
                picked.append((position, kind, *sealed))
                if len(picked) == limit:
                    break
        if len(positions) < limit:
            break
    past = Past(services.app)
    narrators: dict[UUID, Narrator] = {}
    data = []
    for position, kind, event, ledger in picked:
        record_id = event.originator_id
        if record_id not in narrators:  # the record as it was just before this event
            version = event.originator_version - 1
            narrators[record_id] = Narrator(kind, past.load(kind.record, record_id, version) if version else None)
        entry = narrators[record_id].tell(event, ledger)
        data.append({"position": position, "resource": {"type": kind.name, "id": str(record_id)}, **entry})
    return {"data": data, "next": cursor}


async def events_feed(request: Request) -> Response:
    services, account = services_of(request), account_of(request)
    after = params.integer(request.query_params, "after", 0, 0, None)
    limit = params.integer(request.query_params, "limit", FEED_LIMIT, 1, FEED_MAX)
    return JSONResponse(await run_in_threadpool(_feed, services, account, after, limit))


ROUTES = [
    Route("/api/v1/invoices/{invoice_id}/history", _history_route(INVOICE, "Invoice not found"), methods=["GET"]),
    Route("/api/v1/clients/{client_id}/history", _history_route(CLIENT, "Client not found"), methods=["GET"]),
    Route("/api/v1/events", events_feed, methods=["GET"]),
]
