"""The OpenAPI 3.1 document, built from the Structs (``schemas``: JSON Schema 2020-12, by
msgspec) and the route table (``operations``), served at ``GET /api/v1/openapi.json``
without a key. It holds no component nothing references."""

import functools
import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.lifecycle import STATUSES
from gateway.http.jsonio import ENCODER, HARDENING
from gateway.rest.contract import responses as r
from gateway.rest.contract.operations import OPERATIONS, REQUEST_ID, Link, Operation
from gateway.rest.contract.schemas import schemas

PATH = "/api/v1/openapi.json"
UNEXPECTED = "UnexpectedError"


def _version() -> str:
    """The document's version: the implementation's (the API itself is v1, in the paths)."""
    try:
        return version("cleverinvo")
    except PackageNotFoundError:  # a checkout that was never installed
        return "0+unknown"


DESCRIPTION = f"""\
The CleverInvo REST API, version 1. The whole contract in prose is docs/api.md in the
repository; this document is generated from the service's own declarations of it.

- Every request carries `Authorization: Bearer cinv_...` (this document and /docs excepted).
- JSON bodies are sent as `Content-Type: application/json`. Unknown fields are refused;
  fields the API returns and nobody sets (marked read-only) are accepted and ignored.
- Numbers are exact decimals: JSON numbers, read and written at the scale given (`125.00`
  stays `125.00`); a request may also write one as a string of digits (`"125.00"`).
- Every error is `{{"error": "<message>", "code": "<CODE>"}}` with its status: the message for a
  person, the code for a program (the `Problem` schema lists them); `field` names the request
  field at fault when there is one (`lineItems[0].quantity`).
- Lists are newest first, by `page` and `limit`, or by keyset: follow `nextCursor` as `after`
  to see every row once while others are written.
- Budgets: per key and per client address; every answer reports the key's in
  `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; past it, 429 with
  `Retry-After`.
- Every `POST` takes an `Idempotency-Key`: a retry with the same key and body within 24 hours
  gets the first answer again (`Idempotent-Replayed: true`) and nothing runs twice.
- Invoice statuses: {", ".join(STATUSES)}.
"""

TAGS = [
    {"name": "Clients", "description": "Whom the account invoices; deleted is deactivated, never erased."},
    {"name": "Invoices", "description": "Drafts, their PDFs, and their life: send, view, pay, void."},
    {"name": "Payments", "description": "Payments recorded on an issued invoice, and their reversals."},
    {"name": "History", "description": "Every change as an event, with who made it."},
    {"name": "Ledger", "description": "The tamper-evident ledger's digest."},
    {"name": "Contract", "description": "This document."},
]

REASONS = {
    200: "OK.",
    201: "Created.",
    204: "Done; no body.",
    304: "Not modified.",
    400: "A parameter or body breaks the contract (the message names it), more than one Authorization header, or"
    " a body framed two ways (Content-Length with Transfer-Encoding, RFC 9112 section 6.3).",
    401: "No key, a malformed one, or one unknown or revoked.",
    403: "A limit or feature of the account's plan.",
    404: "Not found, or not this account's.",
    408: "The request body did not arrive in time.",
    409: "A conflict with the record's state (the message names it), or the Idempotency-Key's first request is"
    " still running (retry it as it is).",
    412: "The record changed since the ETag sent in If-Match was read (code PRECONDITION_FAILED); nothing changed.",
    413: "The body is larger than the server takes.",
    415: "The body is not declared as application/json.",
    422: "The Idempotency-Key was used for another request.",
    429: "The key's or the address's budget is spent; retry after Retry-After seconds.",
    431: "The request's head (its line and headers) is larger than the server takes.",
    503: "Busy, or the database is unavailable: retry after Retry-After seconds. Write-Saved says what became of a"
    " write: true, it was saved (read it, do not repeat it); false, nothing was saved; unknown, retry with the same"
    " Idempotency-Key to settle it.",
    507: "The server's storage is full (RFC 4918 section 11.5; code STORAGE_FULL): nothing was saved (Write-Saved:"
    " false); retry after Retry-After seconds. Reads keep working.",
}


def _header(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "schema": schema}


HEADERS = {
    "RateLimit-Limit": _header("Requests allowed in the window.", {"type": "integer", "minimum": 0}),
    "RateLimit-Remaining": _header("Requests left in the window.", {"type": "integer", "minimum": 0}),
    "RateLimit-Reset": _header("Seconds until the window frees a request.", {"type": "integer", "minimum": 0}),
    "Retry-After": _header("Seconds to wait before retrying.", {"type": "integer", "minimum": 1}),
    "X-Request-ID": _header("This request's id: quote it when reporting a problem.", {"type": "string"}),
    "Idempotent-Replayed": _header(
        "The kept answer to an earlier request with this Idempotency-Key.", {"const": "true"}
    ),
    "Write-Saved": _header(
        "What became of the write: true, saved (only reading it back failed); false, nothing saved; unknown, the"
        " connection broke while it was saved (retry with the same Idempotency-Key to settle it).",
        {"$ref": "#/components/schemas/WriteSaved"},
    ),
    "WWW-Authenticate": _header("How to authenticate.", {"const": "Bearer"}),
    "ETag": _header(
        "The record's version (or the PDF's): send it back in If-Match or If-None-Match.", {"type": "string"}
    ),
    "Content-Disposition": _header('attachment; filename="INV-0042.pdf"', {"type": "string"}),
}


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


# The operations whose answer is a client or an invoice (or a payment with its invoice), which
# carry that record's ETag.
VERSIONED = frozenset(
    {
        "getClient", "createClient", "replaceClient", "updateClient",
        "getInvoice", "createInvoice", "replaceInvoice", "updateInvoice",
        "sendInvoice", "voidInvoice", "recordPayment", "reversePayment",
    }
)  # fmt: skip


def _headers(status: int, operation: Operation) -> dict[str, Any]:
    """What a response carries besides its body. The request id is on every one; the key's
    budget on every one that passed the budget check: not a body cut off in time nor a head
    over its cap, and maybe not a 400 (a request framed two ways is refused before it) nor a
    503 (the key's lookup or the counters out of reach)."""
    names = ["X-Request-ID"]
    budget = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]
    if not operation.public and status not in (408, 431):
        names += budget
    # A 503 may come before the budget is known: the key's lookup or the counters out of reach.
    required = set(names) - (set(budget) if status in (400, 503) else set())
    if status in (429, 503, 507):  # RFC 9110 §10.2.3; 507: RFC 4918 §11.5
        names.append("Retry-After")
        required.add("Retry-After")
    if status == 409 and operation.method == "POST":
        names.append("Retry-After")
    if status == 401:
        names.append("WWW-Authenticate")
        required.add("WWW-Authenticate")
    if status in (503, 507):
        names.append("Write-Saved")
    if operation.method == "POST" and status not in (401, 408, 429, 503, 507):  # an answer kept for a retry
        names.append("Idempotent-Replayed")
    if operation.operation_id in VERSIONED and status in (200, 201, 304):  # the record's (gateway/http/etags.py)
        names.append("ETag")
    if operation.answer == "application/pdf" and status in (200, 304):
        names.append("ETag")
        required.add("ETag")
        if status == 200:
            names.append("Content-Disposition")
            required.add("Content-Disposition")
    return {name: _ref("headers", name if name in required else f"{name}-Optional") for name in names}


def header_components(used: set[str]) -> dict[str, Any]:
    """Each header as a response must carry it, and as it may: those of them ``used``."""
    found: dict[str, Any] = {}
    for name, header in HEADERS.items():
        found[name] = {**header, "required": True}
        found[f"{name}-Optional"] = {**header, "required": False}
    return {name: header for name, header in found.items() if name in used}


def _referenced(node: Any, kind: str) -> set[str]:
    """The names of the components of ``kind`` that ``node`` references."""
    if isinstance(node, dict):
        target = str(node.get("$ref", ""))
        found = {target.rsplit("/", 1)[1]} if target.startswith(f"#/components/{kind}/") else set()
        return found.union(*(_referenced(value, kind) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_referenced(item, kind) for item in node))
    return set()


def response_components() -> dict[str, Any]:
    """The answer every operation declares as its default: an error it does not list."""
    return {
        UNEXPECTED: {
            "description": "An error this operation does not list: 500 is an unexpected failure (quote its"
            " X-Request-ID when reporting it).",
            "headers": {"X-Request-ID": _ref("headers", "X-Request-ID")},
            "content": {"application/json": {"schema": _ref("schemas", r.Problem.__name__)}},
        }
    }


def _link(link: Link) -> dict[str, Any]:
    return {"operationId": link.operation, "parameters": link.parameters, "description": link.description}


def _success(operation: Operation) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": REASONS[operation.status],
        "headers": _headers(operation.status, operation),
    }
    if isinstance(operation.answer, type):
        answer["content"] = {"application/json": {"schema": _ref("schemas", operation.answer.__name__)}}
    elif operation.answer == "application/pdf":
        # The file's bytes: OpenAPI 3.1 says so with contentMediaType (section 4.8.14.3, "Working
        # With Binary Data"); format: binary is how 3.0 said it, and what generators still read.
        pdf = {"type": "string", "format": "binary", "contentMediaType": "application/pdf"}
        answer["content"] = {"application/pdf": {"schema": pdf}}
    elif operation.answer is not None:
        answer["content"] = {operation.answer: {"schema": {"type": "object"}}}
    if operation.links:
        answer["links"] = {link.name: _link(link) for link in operation.links}
    return answer


def _errors(operation: Operation) -> frozenset[int]:
    """The operation's error answers, and 507 where a full disk can meet it: every write, and
    a PDF rendered for the first time (its cache is written). Reads never need space."""
    full_disk = operation.method != "GET" or operation.answer == "application/pdf"
    return operation.errors | ({507} if full_disk and not operation.public else set())


def _operation(operation: Operation) -> dict[str, Any]:
    answers: dict[str, Any] = {str(operation.status): _success(operation)}
    for status, description in operation.extra_answers.items():
        answers[str(status)] = {"description": description, "headers": _headers(status, operation)}
    for status in sorted(_errors(operation)):
        answers[str(status)] = {
            "description": REASONS[status],
            "headers": _headers(status, operation),
            "content": {"application/json": {"schema": _ref("schemas", r.Problem.__name__)}},
        }
    answers["default"] = _ref("responses", UNEXPECTED)
    spec: dict[str, Any] = {
        "operationId": operation.operation_id,
        "tags": [operation.tag],
        "summary": operation.summary,
        "parameters": [param.spec() for param in (*operation.params, REQUEST_ID)],
        "responses": dict(sorted(answers.items(), key=lambda item: (item[0] == "default", item[0]))),
    }
    if operation.description:
        spec["description"] = operation.description
    if operation.body is not None:
        spec["requestBody"] = {
            "required": operation.body_required,
            "description": "" if operation.body_required else "May be left out.",
            "content": {"application/json": {"schema": _ref("schemas", operation.body.__name__)}},
        }
    if operation.public:
        spec["security"] = []
    return spec


_BEYOND_BMP = re.compile(r"\\U([0-9a-fA-F]{8})")


def _ecma_patterns(found: Any) -> Any:
    """``found`` with each ``pattern`` written as ECMA-262 reads it (JSON Schema 2020-12
    §6.4: patterns are ECMA-262 regular expressions): a character beyond the Basic
    Multilingual Plane as itself, not Python's ``\\UXXXXXXXX`` escape, which ECMA-262 reads
    as a literal U and digits. Python's re and Rust's regex read the character alike."""
    if isinstance(found, dict):
        return {
            key: _BEYOND_BMP.sub(lambda m: chr(int(m.group(1), 16)), value)
            if key == "pattern" and isinstance(value, str)
            else _ecma_patterns(value)
            for key, value in found.items()
        }
    if isinstance(found, list):
        return [_ecma_patterns(item) for item in found]
    return found


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation)
    responses = response_components()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CleverInvo API",
            "version": _version(),
            "description": DESCRIPTION,
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
            "contact": {"name": "The operator of this CleverInvo service"},
        },
        "servers": [{"url": "/", "description": "This server."}],
        "tags": TAGS,
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": _ecma_patterns(schemas()),
            "responses": responses,
            "headers": header_components(_referenced([paths, responses], "headers")),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "cinv_<secret>",
                    "description": "An API key, created by the account's owner (CLI or dashboard).",
                }
            },
        },
    }


@functools.cache
def document_bytes() -> bytes:
    return ENCODER.encode(document())


async def openapi_json(_request: Request) -> Response:
    return Response(document_bytes(), media_type="application/json", headers=dict(HARDENING))


ROUTES = [Route(PATH, openapi_json, methods=["GET"])]
