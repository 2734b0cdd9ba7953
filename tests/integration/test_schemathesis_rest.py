"""schemathesis against the REST door, from the document the live app serves at
`GET /api/v1/openapi.json`, with every phase and every check it has.

The run is schemathesis' own engine (what `schemathesis run` does) on the app in-process:
examples, coverage (boundary values, every kind of invalid value, unexpected methods, missing
headers and media types), fuzzing with valid and invalid data, and stateful chains along the
document's links and the ones schemathesis infers. Two tenants with their own books are its
identities (a Web Fuzzing Commons auth file): it fuzzes as the seller, and replays the
seller's reads as the other tenant, who must get nothing (`object_level_authorization`).

Checks: all of them (server errors, status codes, content types, headers, response schemas
with formats, positive data accepted, negative data rejected, missing required headers,
ignored auth, object-level authorization, use after free, resource availability,
unsupported methods, `Allow` headers), except `max_response_time`, which is a timing
assertion (none in tests; bench/ measures time). Two are configured, each for a reason told
where it is: `positive_data_acceptance` accepts a refusal only when it names a rule no
schema can state, and `use_after_free` is off for the reads that outlive a DELETE by design.
One is added: every operation declares a `default` answer (an error it does not list), which
turns `status_code_conformance` off, so `every_status_is_listed` holds each answer's status
to the ones the operation lists, as that check did before.
"""

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis import Case, CheckContext, Response
from schemathesis.core import SpecificationKind
from schemathesis.core.failures import Failure
from schemathesis.core.transport import expand_status_codes
from schemathesis.engine import events, from_schema
from schemathesis.openapi.checks import RejectedPositiveData, UndefinedStatusCode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import FakeClock
from tests.schemathesis_support import Live, live_app

# The run takes minutes on each backend: this file runs it on SQLite, and
# test_schemathesis_rest_postgres.py the same test on PostgreSQL + Redis, so that the
# suite's test processes (each file whole in one) run the two side by side.
pytestmark = pytest.mark.one_backend("sqlite")

# Refusals of a schema-valid request that are the API's rules, not the document's silence:
# each compares two values, or depends on what is stored or was sent before, which no
# OpenAPI schema can say (or says it in a way generators cannot read, the last one). Any
# other 400/422 for a schema-valid request is a failure.
RULES_NO_SCHEMA_CAN_STATE = {
    # two query parameters that exclude each other (OpenAPI parameters are independent)
    r"Give parameter 'version' or 'asOf', not both",
    r"Give parameter 'page' or 'after', not both",
    # a list's cursor: only one a page of that list gave back is valid (it is opaque)
    r"Parameter 'after' must be a cursor this list gave \(nextCursor or endCursor\)",
    # a draft's status sent back: taken when it is the stored invoice's
    r"Field 'status' cannot be set; use POST /api/v1/invoices/\{id\}/send, /payments or /void",
    # a field compared with another one, or with the stored invoice's date
    r"Field 'dueDate' must be on or after 'issueDate'",
    # the invoice's balance
    r"Field 'amount' must be at most the balance due \(.*\)",
    # the invoice's currency: its minor unit (2 decimals for USD, 0 for JPY, 3 for KWD)
    r"Field 'amount' must have at most \d+ decimal places in [A-Z]{3}",
    # the account's clients
    r"Field 'clientId' must name an active client of this account",
    # the invoice's client: sending by email needs its address when no 'to' is given
    r"The client has no email address; give one in 'to'",
    # If-Match: a precondition on the stored record's version (RFC 9110 §13.1.1), which only a
    # tag read from that record meets; a generated header names no version it is at
    r"(Client|Invoice) is at version \d+, (not [0-9 or]+: it changed since it was read; read it again"
    r"|and the precondition names none of its versions; read it again and send its ETag)",
    # an earlier request with the same key (issue 16, "Safe retries")
    r"This Idempotency-Key was used for another request \(method, path or body\); use a new key",
    # A JSON number's decimals: the document states them in `x-decimal-places`, which no
    # generator reads (JSON Schema's `multipleOf` is read in binary floating point, so it
    # cannot say "at most 6 decimals" of a number read exactly); the digit strings' patterns do.
    r"Field '[A-Za-z\[\]0-9.]+' must have at most \d+ decimal places",
}
_RULES = re.compile("|".join(f"(?:{rule})" for rule in RULES_NO_SCHEMA_CAN_STATE))


def _error_message(response: Response) -> str:
    try:
        body = json.loads(response.content)
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


@schemathesis.check
def schema_valid_requests_are_accepted(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """`positive_data_acceptance`, with refusals by the rules above let through."""
    if case.operation.schema.specification.kind is not SpecificationKind.OPENAPI:
        return None
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if _RULES.fullmatch(_error_message(response)):
            return None
        raise


@schemathesis.check
def every_status_is_listed(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """`status_code_conformance` with the `default` answer left out: an answer's status is one
    its operation lists (the default describes only what no test should meet, a 500)."""
    if case.operation.schema.specification.kind is not SpecificationKind.OPENAPI:
        return None
    if case.method.upper() != case.operation.method.upper():  # another method on its path: `unsupported_method`'s
        return None
    listed = [code for code in case.operation.responses.status_codes if code != "default"]
    if response.status_code not in expand_status_codes(listed):
        raise UndefinedStatusCode(
            operation=case.operation.label,
            status_code=response.status_code,
            defined_status_codes=[str(code) for code in listed],
            allowed_status_codes=sorted(expand_status_codes(listed)),
            message=f"Received: {response.status_code}\nListed: {', '.join(map(str, listed))}",
        )
    return None


# What answers 200 after a DELETE by design (docs/api.md): DELETE /clients/{id} is a soft
# delete (the client stays, inactive, for its invoices: it is read, updated and reactivated
# as before), and a deleted draft's history stays in the ledger. After DELETE /invoices/{id},
# every other operation on it must answer 404.
OUTLIVE_DELETE = ["getClient", "replaceClient", "updateClient", "getClientHistory", "getInvoiceHistory"]


def _config(wfc: Path, max_examples: int) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": 16,
            # Deterministic: the same requests on every run and machine.
            "generation": {"mode": "all", "max-examples": max_examples, "deterministic": True, "database": "none"},
            # Schema-driven generation filters and grows large by design; neither is the service's doing.
            "suppress-health-check": ["filter_too_much", "too_slow", "data_too_large", "large_base_example"],
            "auth": {"wfc": {"path": str(wfc), "user": "seller", "peers": ["seller", "peer"]}},
            "phases": {"stateful": {"max-steps": 10}},
            "checks": {
                "positive_data_acceptance": {"enabled": False},
                # schemathesis' own list, with 412: RFC 9110 §13.2.2 evaluates a precondition
                # "just before it would process the request content", so a write whose If-Match
                # names none of the record's versions is refused 412 before its body is read.
                "negative_data_rejection": {
                    "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 412, 415, 422, 428, 429, "5xx"]
                },
            },
            "operations": [{"include-operation-id": OUTLIVE_DELETE, "checks": {"use_after_free": {"enabled": False}}}],
        }
    )


@pytest.fixture
def live(make_settings, clock: FakeClock) -> Iterator[Live]:
    with live_app(make_settings, clock) as found:
        yield found


def _identities(live: Live, path: Path) -> Path:
    users = {"seller": live.headers, "peer": live.peer_headers}
    document = {
        "auth": [
            {"name": name, "fixedHeaders": [{"name": key, "value": value} for key, value in headers.items()]}
            for name, headers in users.items()
        ]
    }
    path.write_text(json.dumps(document))
    return path


def _describe(label: str, check: str, failure: Failure, code: str, response: Any) -> str:
    answer = f"{response.status_code} {response.text[:400]}" if response is not None else "(no response)"
    return f"{label}: {check}: {failure.title}\n{failure.message}\n{code}\n-> {answer}"


class Credentials:
    """The app, counting the `Authorization` headers its requests carry."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: Counter[str | None] = Counter()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            sent = [value.decode("latin-1") for name, value in scope["headers"] if name == b"authorization"]
            self.seen[sent[0] if sent else None] += 1
        await self.app(scope, receive, send)


def run(app: Any, wfc: Path, max_examples: int) -> tuple[list[str], dict[str, set[str]]]:
    """Every failure and error of one engine run, and which operations each phase finished."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, config=_config(wfc, max_examples))
    problems: list[str] = []
    finished: dict[str, set[str]] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            finished.setdefault(event.phase.value, set()).add(event.recorder.label)
            recorder = event.recorder
            for case_id, nodes in recorder.checks.items():
                for node in nodes:
                    if node.failure_info is not None:
                        response = recorder.find_response(case_id=case_id)
                        info = node.failure_info
                        problems.append(_describe(recorder.label, node.name, info.failure, info.code_sample, response))
        elif isinstance(event, events.NonFatalError):
            problems.append(f"{event.label}: error: {event.value!r}")
        elif isinstance(event, events.FatalError):
            problems.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            problems += [f"{failure.operation}: {failure.title}\n{failure.message}" for failure in event.failures]
    return problems, finished


def test_the_document_and_the_service_agree_under_fuzzing(live: Live, tmp_path: Path) -> None:
    app = Credentials(live.app)
    problems, finished = run(app, _identities(live, tmp_path / "identities.json"), max_examples=30)
    assert not problems, f"{len(problems)} failures:\n\n" + "\n\n".join(dict.fromkeys(problems))
    # The seller's reads were replayed as the peer, and requests went without a key.
    assert app.seen[live.peer_headers["Authorization"]] > 0 and app.seen[None] > 0, app.seen.most_common(4)
    document = schemathesis.openapi.from_asgi("/api/v1/openapi.json", live.app)
    operations = {operation.label for operation in (result.ok() for result in document.get_all_operations())}
    assert finished["fuzzing"] >= operations  # nothing was skipped
    assert finished["coverage"] >= operations
    assert "Stateful tests" in finished["stateful"]
