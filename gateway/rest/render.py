"""Read-model records as the contract's response Structs (``gateway.rest.contract.responses``).

A response field is filled from the view's attribute of the same name (``RENAMED`` lists the
few that differ), written as the wire writes it: a time ``timestamp``'d, a date YYYY-MM-DD, a
list of Structs converted row by row. Fields no view holds (``client``, ``shareUrl``,
``pdfWarnings``) are given by the caller; so a field added to a view and to a response
Struct needs nothing here.
"""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar, get_args, get_origin

import msgspec

from gateway.rest.contract import history_shapes as h
from gateway.rest.contract import responses as r
from pdf.coverage import pdf_warnings
from usecases import cursors
from usecases.lifecycle import PaymentAnswer
from usecases.views import AccountView, ClientView, InvoiceDetail, InvoiceSummary, LedgerDigest, PaymentView, SortKey
from usecases.views import Page as ViewPage
from usecases.wire import timestamp
from usecases.wire_names import wire_path

P = TypeVar("P", r.ClientPage, r.InvoicePage)
S = TypeVar("S", bound=msgspec.Struct)

# response field -> view attribute, where the names differ (per Struct, inherited)
RENAMED: dict[type[msgspec.Struct], dict[str, str]] = {
    r.InvoiceDetail: {"email_error": "email_reply"},
    r.Payment: {"date": "paid_on", "created_at": "recorded_at"},
}


def _at(moment: Any) -> str:
    stamped = timestamp(moment)
    assert stamped is not None
    return stamped


def wire(value: Any) -> Any:
    """A view's value as the wire writes it."""
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _rows(shape: type[msgspec.Struct]) -> Callable[[Any], Any]:
    return lambda rows: [from_view(row, shape) for row in rows]


Plan = tuple[tuple[str, str, Callable[[Any], Any]], ...]
_PLANS: dict[tuple[type, type[msgspec.Struct]], Plan] = {}


def _plan(view: type, shape: type[msgspec.Struct]) -> Plan:
    """(field, view attribute, conversion) for each field of ``shape`` that ``view`` holds."""
    if (view, shape) in _PLANS:
        return _PLANS[view, shape]
    renamed: dict[str, str] = {}
    for base in reversed(shape.__mro__):
        renamed.update(RENAMED.get(base, {}))
    held = set(getattr(view, "__dataclass_fields__", ()))
    plan = []
    for found in msgspec.structs.fields(shape):
        attribute = renamed.get(found.name, found.name)
        if attribute not in held:
            continue
        inner = get_args(found.type)
        nested = get_origin(found.type) is list and isinstance(inner[0], type) and issubclass(inner[0], msgspec.Struct)
        plan.append((found.name, attribute, _rows(inner[0]) if nested else wire))
    _PLANS[view, shape] = tuple(plan)
    return _PLANS[view, shape]


def from_view(view: Any, shape: type[S], **given: Any) -> S:
    """``shape`` filled from ``view``'s fields, and ``given`` for the ones it does not hold."""
    values = {name: convert(getattr(view, attribute)) for name, attribute, convert in _plan(type(view), shape)}
    return shape(**values, **given)


def client(view: ClientView) -> r.Client:
    return from_view(view, r.Client)


def next_cursor(result: ViewPage[ClientView] | ViewPage[InvoiceSummary]) -> str | None:
    """The ``after`` of the page that follows ``result``: its last row's key; None on the last page."""
    if not result.has_next or not result.items:
        return None
    return cursors.encode(SortKey.of(result.items[-1]))


def _page(result: ViewPage[Any], data: list[Any], kind: type[P]) -> P:
    return kind(
        data=data,
        total=result.total,
        page=result.page,
        limit=result.limit,
        total_pages=result.total_pages,
        next_cursor=next_cursor(result),
    )


def client_page(result: ViewPage[ClientView]) -> r.ClientPage:
    return _page(result, [client(row) for row in result.items], r.ClientPage)


def invoice_brief(view: InvoiceSummary) -> r.InvoiceBrief:
    return from_view(view, r.InvoiceBrief)


def _billed(view: InvoiceSummary) -> r.BilledClient:
    return r.BilledClient(name=view.client_name, email=view.client_email)


def invoice_summary(view: InvoiceSummary) -> r.InvoiceSummary:
    return from_view(view, r.InvoiceSummary, client=_billed(view))


def invoice_page(result: ViewPage[InvoiceSummary]) -> r.InvoicePage:
    return _page(result, [invoice_summary(row) for row in result.items], r.InvoicePage)


def share_url(view: InvoiceDetail, public_url: str) -> str | None:
    return f"{public_url}/i/{view.share_token}" if view.share_token else None


def invoice_detail(
    view: InvoiceDetail, public_url: str, client: ClientView | None = None, account: AccountView | None = None
) -> r.InvoiceDetail:
    """The detail; ``client`` and ``account`` let pdfWarnings cover what the PDF shows of them."""
    return from_view(
        view,
        r.InvoiceDetail,
        client=_billed(view),
        share_url=share_url(view, public_url),
        # characters of the invoice's own fields its PDF draws as U+FFFD (pdf/coverage.py)
        pdf_warnings=pdf_warnings(view, client, account, wire_path),
    )


def payment(view: PaymentView) -> r.Payment:
    return from_view(view, r.Payment)


def payment_answer(answer: PaymentAnswer) -> r.PaymentAnswer:
    """The payment, with where its invoice now stands."""
    return from_view(answer.payment, r.PaymentAnswer, invoice=from_view(answer.invoice, r.Standing))


def history(kind: str, entries: list[dict[str, Any]]) -> h.InvoiceHistory | h.ClientHistory:
    """A record's history entries as the use cases tell them (``usecases.history``), each
    checked on the way out against its event type's shape (``usecases.change_shapes``)."""
    answer = h.HISTORIES[kind]
    return answer(data=msgspec.convert(entries, answer.__annotations__["data"]))


def feed(entries: list[dict[str, Any]], next_after: int) -> h.Feed:
    tagged = [{"event": h.feed_event(entry["resource"]["type"], entry["type"]), **entry} for entry in entries]
    return h.Feed(data=msgspec.convert(tagged, list[h.FEED_ENTRY]), next=next_after)


def digest(account_id: str, found: LedgerDigest) -> r.LedgerDigest:
    return r.LedgerDigest(account_id=account_id, position=found.position, digest=found.digest, at=_at(found.at))
