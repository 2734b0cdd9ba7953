"""The route table of the contract: every operation under /api/v1, with its parameters,
body, answers and links. ``openapi`` turns it into the document; a test holds it equal to
the app's own routes, so neither can move without the other.
"""

from dataclasses import dataclass, field
from typing import Any

import msgspec

from gateway.rest.contract import history_shapes as h
from gateway.rest.contract import requests as q
from gateway.rest.contract import responses as r
from usecases.auditing import FEED_LIMIT, FEED_MAX
from usecases.inputs import MAX_LIMIT, MAX_SEARCH

PDF = "application/pdf"
LARGEST = 999_999_999_999_999_999  # 18 digits: what gateway.rest.params reads as an integer


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # path, query or header
    schema: dict[str, Any]
    description: str
    required: bool = False
    allow_empty: bool = False  # a query parameter sent empty (?status=) is taken, as if left out

    def spec(self) -> dict[str, Any]:
        found = {
            "name": self.name,
            "in": self.where,
            "required": self.required or self.where == "path",
            "description": self.description,
            "schema": self.schema,
        }
        if self.allow_empty:
            found["allowEmptyValue"] = True
        return found


def _id(name: str, what: str) -> Param:
    return Param(name, "path", {"type": "string", "format": "uuid"}, f"The {what}'s id; another account's is 404.")


CLIENT_ID = _id("client_id", "client")
INVOICE_ID = _id("invoice_id", "invoice")
PAYMENT_ID = _id("payment_id", "payment")
PAGE = Param("page", "query", {"type": "integer", "minimum": 1, "maximum": LARGEST, "default": 1}, "The page, from 1.")
LIMIT = Param(
    "limit", "query", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20}, "Items on a page."
)
SEARCH = Param(
    "search",
    "query",
    {"type": "string", "maxLength": MAX_SEARCH, "pattern": r"^[^\u0000]*$"},
    "Case-insensitive, on the name, email or invoice number; blank is no search.",
)
CLIENT_FILTER = Param("clientId", "query", {"type": "string"}, "Only this client's invoices; an unknown id, none.")
STATUS_FILTER = Param(
    "status",
    "query",
    {"$ref": "#/components/schemas/InvoiceStatus"},
    "Only invoices in this status; sent empty, all of them.",
    allow_empty=True,
)
VERSION = Param(
    "version",
    "query",
    {"type": "integer", "minimum": 1, "maximum": LARGEST},
    "The invoice as it was at this version (its events counted from 1); not with asOf.",
)
AS_OF = Param(
    "asOf",
    "query",
    {"type": "string", "format": "date-time", "maxLength": 64},
    "The invoice as it was at this moment (ISO 8601 with a time; no offset is UTC); not with version.",
)
AFTER = Param(
    "after", "query", {"type": "integer", "minimum": 0, "maximum": LARGEST, "default": 0}, "The position to follow."
)
CURSOR = Param(
    "after",
    "query",
    {"type": "string", "minLength": 1, "maxLength": 512},
    "A page's `nextCursor`: the page that follows it, however many rows were written meanwhile (keyset"
    " paging). Opaque: sent back as it is, with the same filters and limit; not with `page` (400).",
)
FEED_SIZE = Param(
    "limit", "query", {"type": "integer", "minimum": 1, "maximum": FEED_MAX, "default": FEED_LIMIT}, "Events at most."
)
IF_NONE_MATCH = Param(
    "If-None-Match",
    "header",
    {"type": "string"},
    "The ETags of the copies held (one, a list, weak or strong, or *): 304 if one is current (RFC 9110"
    " section 13.1.2, compared weakly).",
)
IF_MATCH = Param(
    "If-Match",
    "header",
    {"type": "string"},
    "The record's ETag as last read (one, a list, or * for any): unless the record is still at that version the"
    " write is refused with 412 and nothing changes (RFC 9110 section 13.1.1; a weak tag never matches).",
)
IDEMPOTENCY_KEY = Param(
    "Idempotency-Key",
    "header",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]*[!-~][ -~]*$"},
    "A fresh value (a UUID) for a request and each of its retries: it takes effect at most once. 1 to 255"
    " printable ASCII characters.",
)
REQUEST_ID = Param(
    "X-Request-ID",
    "header",
    {"type": "string"},
    "Echoed back when it is 1 to 128 visible ASCII characters (and not shaped like a key); else a new one.",
)


@dataclass(frozen=True)
class Link:
    """A following operation, with the values it takes from this one."""

    name: str
    operation: str
    parameters: dict[str, str]
    description: str


def _links_to_client(source: str) -> list[Link]:
    ids = {"client_id": source}
    return [
        Link("GetClient", "getClient", ids, "The client."),
        Link("ReplaceClient", "replaceClient", ids, "Change the client."),
        Link("UpdateClient", "updateClient", ids, "Change the client."),
        Link("DeleteClient", "deleteClient", ids, "Deactivate the client."),
        Link("GetClientHistory", "getClientHistory", ids, "The client's history."),
        Link("ListClientInvoices", "listInvoices", {"clientId": source}, "The client's invoices."),
    ]


def _links_to_invoice(source: str) -> list[Link]:
    ids = {"invoice_id": source}
    return [
        Link("GetInvoice", "getInvoice", ids, "The invoice."),
        Link("ReplaceInvoice", "replaceInvoice", ids, "Change the draft."),
        Link("UpdateInvoice", "updateInvoice", ids, "Change the draft."),
        Link("DeleteInvoice", "deleteInvoice", ids, "Delete the draft."),
        Link("GetInvoicePdf", "getInvoicePdf", ids, "The invoice's PDF."),
        Link("SendInvoice", "sendInvoice", ids, "Send it."),
        Link("VoidInvoice", "voidInvoice", ids, "Void it."),
        Link("ListPayments", "listPayments", ids, "Its payments."),
        Link("RecordPayment", "recordPayment", ids, "Record a payment."),
        Link("GetInvoiceHistory", "getInvoiceHistory", ids, "Its history."),
    ]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    tag: str
    summary: str
    status: int  # the success status
    answer: type[msgspec.Struct] | str | None  # a Struct, a media type, or no body
    errors: frozenset[int]
    params: tuple[Param, ...] = ()
    body: type[msgspec.Struct] | None = None
    body_required: bool = True
    links: tuple[Link, ...] = ()
    description: str = ""
    public: bool = False
    extra_answers: dict[int, str] = field(default_factory=dict)


# A conditional read's answer (gateway/http/etags.py). (If-Match and its 412 join the writes once
# the document's table of reasons has 412, an error answer with its Problem body.)
NOT_MODIFIED = {304: "The copy held (If-None-Match) is current: no body, its ETag."}

# Every request can meet these, before any route: a head over its cap (431), a body framed
# two ways (400). Every operation behind a key can also meet a second Authorization header
# (400), no valid key (401), an exhausted budget (429), a saturated store (503).
HEAD = frozenset({400, 431})
ANY = HEAD | {401, 429, 503}
WRITE = ANY | {408, 413, 415}  # a body: too slow, too large, not JSON
POST = WRITE | {409, 422}  # Idempotency-Key: in flight (409), reused for another request (422)
ITEM = frozenset({404})

OPERATIONS: tuple[Operation, ...] = (
    # --- clients
    Operation(
        "GET", "/api/v1/clients", "listClients", "Clients", "List active clients", 200, r.ClientPage, ANY,
        (PAGE, LIMIT, SEARCH, CURSOR),
        description="Newest first (createdAt, then id), stable across pages. Follow `nextCursor` (as `after`) to"
        " see every client once while others are written.",
    ),
    Operation(
        "POST", "/api/v1/clients", "createClient", "Clients", "Create a client", 201, r.ClientData, POST | {403},
        (IDEMPOTENCY_KEY,), q.ClientCreate, links=tuple(_links_to_client("$response.body#/data/id")),
        description="403 when the plan's client limit is reached.",
    ),
    Operation(
        "GET", "/api/v1/clients/{client_id}", "getClient", "Clients", "Read a client", 200, r.ClientData, ANY | ITEM,
        (CLIENT_ID, IF_NONE_MATCH), description="Deleted clients too, with isActive false. With its ETag.",
        extra_answers=NOT_MODIFIED,
    ),
    Operation(
        "PUT", "/api/v1/clients/{client_id}", "replaceClient", "Clients", "Change a client", 200, r.ClientData,
        WRITE | ITEM | {403, 412}, (CLIENT_ID, IF_MATCH), q.ClientUpdate,
        description="Fields not sent stay (as PATCH). Reactivating counts against the plan's client limit (403).",
    ),
    Operation(
        "PATCH", "/api/v1/clients/{client_id}", "updateClient", "Clients", "Change a client", 200, r.ClientData,
        WRITE | ITEM | {403, 412}, (CLIENT_ID, IF_MATCH), q.ClientUpdate,
        description="Fields not sent stay. Reactivating counts against the plan's client limit (403).",
    ),
    Operation(
        "DELETE", "/api/v1/clients/{client_id}", "deleteClient", "Clients", "Deactivate a client", 204, None,
        ANY | ITEM | {412}, (CLIENT_ID, IF_MATCH),
        description="A soft delete: isActive becomes false; its invoices keep it.",
    ),
    Operation(
        "GET", "/api/v1/clients/{client_id}/history", "getClientHistory", "History", "A client's history", 200,
        h.ClientHistory, ANY | ITEM, (CLIENT_ID,), description="Every event of the client, oldest first.",
    ),
    # --- invoices
    Operation(
        "GET", "/api/v1/invoices", "listInvoices", "Invoices", "List invoices", 200, r.InvoicePage, ANY,
        (PAGE, LIMIT, SEARCH, CLIENT_FILTER, STATUS_FILTER, CURSOR),
        description="Newest first (createdAt, then id), stable across pages. Follow `nextCursor` (as `after`) to"
        " see every invoice once while others are written.",
    ),
    Operation(
        "POST", "/api/v1/invoices", "createInvoice", "Invoices", "Create a draft invoice", 201, r.InvoiceData,
        POST | {403}, (IDEMPOTENCY_KEY,), q.InvoiceCreate,
        links=(
            *_links_to_invoice("$response.body#/data/id"),
            Link("GetBilledClient", "getClient", {"client_id": "$request.body#/clientId"}, "The client billed."),
        ),
        description="Totals computed, PDF produced; answers the invoice's detail, as GET does, with its ETag."
        " 403 when the plan's monthly invoice limit is reached; 409 when"
        " the invoice number is taken.",
    ),
    Operation(
        "GET", "/api/v1/invoices/{invoice_id}", "getInvoice", "Invoices", "Read an invoice", 200, r.InvoiceData,
        ANY | ITEM, (INVOICE_ID, VERSION, AS_OF, IF_NONE_MATCH), extra_answers=NOT_MODIFIED,
        links=(Link("GetInvoiceClient", "getClient", {"client_id": "$response.body#/data/clientId"}, "Its client."),),
        description="Now, or as it was at a version or a moment, with its client as it was then. With its ETag.",
    ),
    Operation(
        "PUT", "/api/v1/invoices/{invoice_id}", "replaceInvoice", "Invoices", "Change a draft", 200,
        r.InvoiceData, WRITE | ITEM | {409, 412}, (INVOICE_ID, IF_MATCH), q.InvoiceUpdate,
        description="Answers the detail, as GET does. Fields not sent stay (as PATCH). Only a DRAFT changes (409);"
        " a taken number is 409.",
    ),
    Operation(
        "PATCH", "/api/v1/invoices/{invoice_id}", "updateInvoice", "Invoices", "Change a draft", 200,
        r.InvoiceData, WRITE | ITEM | {409, 412}, (INVOICE_ID, IF_MATCH), q.InvoiceUpdate,
        description="Answers the detail, as GET does. Fields not sent stay. Only a DRAFT changes (409); a taken"
        " number is 409.",
    ),
    Operation(
        "DELETE", "/api/v1/invoices/{invoice_id}", "deleteInvoice", "Invoices", "Delete a draft", 204, None,
        ANY | ITEM | {409, 412}, (INVOICE_ID, IF_MATCH),
        description="For good, with its PDF; its history stays in the ledger. An issued invoice is voided (409).",
    ),
    Operation(
        "GET", "/api/v1/invoices/{invoice_id}/pdf", "getInvoicePdf", "Invoices", "An invoice's PDF", 200, PDF,
        ANY | ITEM, (INVOICE_ID, VERSION, AS_OF, IF_NONE_MATCH),
        description='A download (Content-Disposition: attachment; filename="INV-0042.pdf"), with an ETag.',
        extra_answers={304: "The copy held (If-None-Match) is current."},
    ),
    Operation(
        "GET", "/api/v1/invoices/{invoice_id}/history", "getInvoiceHistory", "History", "An invoice's history", 200,
        h.InvoiceHistory, ANY | ITEM, (INVOICE_ID,), description="Every event of the invoice, oldest first.",
    ),
    # --- an invoice's life
    Operation(
        "POST", "/api/v1/invoices/{invoice_id}/send", "sendInvoice", "Invoices", "Send an invoice", 200,
        r.InvoiceData, POST | ITEM | {403, 412}, (INVOICE_ID, IDEMPOTENCY_KEY, IF_MATCH), q.SendInput, False,
        description="DRAFT to SENT; later sends keep the status. By email needs a plan that sends email (403).",
    ),
    Operation(
        "POST", "/api/v1/invoices/{invoice_id}/void", "voidInvoice", "Invoices", "Void an invoice", 200,
        r.InvoiceData, POST | ITEM | {412}, (INVOICE_ID, IDEMPOTENCY_KEY, IF_MATCH), q.VoidInput, False,
        description="An issued invoice that is not fully paid; else 409.",
    ),
    Operation(
        "GET", "/api/v1/invoices/{invoice_id}/payments", "listPayments", "Payments", "An invoice's payments", 200,
        r.PaymentList, ANY | ITEM, (INVOICE_ID,), description="Reversed ones too, oldest first.",
    ),
    Operation(
        "POST", "/api/v1/invoices/{invoice_id}/payments", "recordPayment", "Payments", "Record a payment", 201,
        r.PaymentData, POST | ITEM | {412}, (INVOICE_ID, IDEMPOTENCY_KEY, IF_MATCH), q.PaymentCreate,
        links=(
            Link(
                "ReversePayment",
                "reversePayment",
                {"invoice_id": "$request.path.invoice_id", "payment_id": "$response.body#/data/id"},
                "Reverse the payment.",
            ),
            Link("GetPaidInvoice", "getInvoice", {"invoice_id": "$request.path.invoice_id"}, "The invoice."),
            Link("ListPaidPayments", "listPayments", {"invoice_id": "$request.path.invoice_id"}, "Its payments."),
        ),
        description="On an issued invoice (else 409); more than the balance due is 400.",
    ),
    Operation(
        "DELETE", "/api/v1/invoices/{invoice_id}/payments/{payment_id}", "reversePayment", "Payments",
        "Reverse a payment", 200, r.PaymentData, ANY | ITEM | {409, 412}, (INVOICE_ID, PAYMENT_ID, IF_MATCH),
        description="Records the reversal of a mistaken payment; the payment stays on record.",
    ),
    # --- the auditor's reads
    Operation(
        "GET", "/api/v1/events", "listEvents", "History", "The account's events", 200, h.Feed, ANY,
        (AFTER, FEED_SIZE),
        links=(Link("NextEvents", "listEvents", {"after": "$response.body#/next"}, "The following page."),),
        description="After a position, in commit order; follow `next` to see every event once.",
    ),
    Operation(
        "GET", "/api/v1/ledger/digest", "getLedgerDigest", "Ledger", "The ledger's digest", 200, r.LedgerDigest, ANY,
        description="What an auditor keeps, to check later with `cleverinvo ledger verify --digests`.",
    ),
    Operation(
        "GET", "/api/v1/openapi.json", "getOpenApi", "Contract", "This document", 200, "application/json",
        HEAD, public=True, description="Served without a key.",
    ),
)  # fmt: skip
