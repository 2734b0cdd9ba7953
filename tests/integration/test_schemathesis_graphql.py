"""schemathesis against the GraphQL door: every query and mutation of the schema the live
app serves (the same introspection it answers over HTTP, which a test compares), with
schema-valid and schema-invalid documents, and stateful chains (a mutation's returned ids
fed into the queries and mutations that take them), over seeded books.

Checks: every one schemathesis has for GraphQL (server errors, positive data accepted,
negative data rejected, response conformance: JSON object, `data`/`errors`, no null in a
non-null field), two of them restated for this API's error codes (see `no_fault` and
`documents_run`) and one added (`errors_are_coded`). The coverage and examples phases
generate nothing for GraphQL (schemathesis 4 has none for it); fuzzing and stateful run.
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.graphql import nodes

from gateway.graphql.errors import CODES
from gateway.graphql.schema import build_schema, query_limits
from tests.conftest import FakeClock
from tests.schemathesis_support import FUZZ, POOL, Live, live_app

# What the generators draw for scalars. Ids come mostly from the live account (seeded, then
# harvested from responses), else any UUID or any text; numbers of pages and versions stay
# mostly near where records are, with any 32-bit value now and then; strings are any text
# or values that mean something here (currencies, emails). The Decimal scalar takes a
# number as written or a string of digits (gateway/graphql/scalars.py).
_AMOUNTS = st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9)
_WORDS = ["Acme Corp", "billing@acme.test", "USD", "EUR", "JPY", "KWD", "INV-0001", "wire", "2024-06-15"]
schemathesis.graphql.scalar(
    "ID",
    st.one_of(POOL.strategy(), POOL.strategy(), st.uuids().map(str), st.text(max_size=40)).map(nodes.String),
)
schemathesis.graphql.scalar(
    "Int", st.one_of(st.integers(min_value=-1, max_value=120), st.integers(-(2**31), 2**31 - 1)).map(nodes.Int)
)
schemathesis.graphql.scalar("String", st.one_of(st.text(max_size=60), st.sampled_from(_WORDS)).map(nodes.String))
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        st.integers(min_value=-(10**12), max_value=10**12).map(nodes.Int),
        _AMOUNTS.map(lambda amount: nodes.Float(format(amount, "f"))),
        _AMOUNTS.map(lambda amount: nodes.String(format(amount, "f"))),
    ),
)

# The limits' refusals (gateway/graphql/limits.py): a schema-valid document may still ask
# for too much, and is then refused before it runs.
LIMIT_REFUSAL = re.compile(r"^(Query depth \d+ exceeds|The query uses \d+ aliases|Query cost \d+ exceeds)")


def _errors(response: Response) -> list[dict[str, Any]]:
    body = response.json()
    assert isinstance(body, dict), body
    errors = body.get("errors") or []
    assert isinstance(errors, list), body
    return errors


def errors_are_coded(_ctx: CheckContext, response: Response, _case: Case) -> bool | None:
    """Every error carries one of the documented codes (a frontend branches on the code)."""
    for error in _errors(response):
        code = (error.get("extensions") or {}).get("code")
        assert code in CODES, f"error without a documented code: {error}"
    return None


def no_fault(_ctx: CheckContext, response: Response, _case: Case) -> bool | None:
    """Stands in for `not_a_server_error`: no 5xx, and no error coded as the service's fault.

    schemathesis reads a GraphQL error raised inside a resolver (it has a `path`) as a
    server error unless its code is one of Apollo's or graphql-java's client markers. This
    API codes every refusal of the application (NOT_FOUND, CONFLICT, FORBIDDEN, ...) and
    keeps INTERNAL for its own faults (gateway/graphql/errors.py), so the code decides.
    UNAVAILABLE (a saturated store) is a fault here too: nothing in this test saturates it.
    """
    assert response.status_code < 500, f"HTTP {response.status_code}: {response.text[:500]}"
    for error in _errors(response):
        code = (error.get("extensions") or {}).get("code")
        assert code not in ("INTERNAL", "UNAVAILABLE"), f"a fault of the service: {error}"
    return None


def documents_run(_ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Stands in for `positive_data_acceptance`: a schema-valid document is executed.

    schemathesis counts any BAD_REQUEST as a refusal of valid data. A schema cannot say that
    a page starts at 1 or that an email needs an @, so a resolver refusing a value (its
    error has a `path`) is the application's rule, the same REST applies. What must not
    happen is a schema-valid document refused before it runs (no `path`), unless it asks
    for more than the documented limits allow.
    """
    if case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE:
        return None
    for error in _errors(response):
        if "path" in error:
            continue
        assert LIMIT_REFUSAL.match(error.get("message", "")), f"a schema-valid document was refused: {error}"
    return None


ADDED = [no_fault, documents_run, errors_are_coded]

# The schema as the app builds it; the test checks the live app serves the same one.
INTROSPECTION = build_schema(query_limits()).introspect()
CONFIG = schemathesis.Config.from_dict(
    {
        "base-url": "http://testserver/graphql",
        "generation": {"mode": "all", "deterministic": True, "database": "none"},
        "seed": 16,
        "checks": {"not_a_server_error": {"enabled": False}, "positive_data_acceptance": {"enabled": False}},
    }
)
schema = schemathesis.graphql.from_dict(INTROSPECTION, config=CONFIG)


@pytest.fixture
def live(make_settings, clock: FakeClock) -> Iterator[Live]:
    with live_app(make_settings, clock) as found:
        yield found


def test_the_fuzzed_schema_is_the_one_the_live_app_serves(live: Live) -> None:
    loaded = schemathesis.graphql.from_asgi("/graphql", live.app, headers=live.headers)
    assert loaded.raw_schema == schemathesis.graphql.from_dict(INTROSPECTION).raw_schema


@schema.parametrize()
@FUZZ
def test_every_operation_with_valid_and_invalid_documents(case: Case, live: Live) -> None:
    response = case.call_and_validate(app=live.app, headers=live.headers, additional_checks=ADDED)
    POOL.harvest(response.json())


def test_stateful_chains_of_mutations_and_queries(live: Live) -> None:
    class Chains(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"app": live.app, "headers": live.headers}

        def validate_response(self, response: Response, case: Case, additional_checks=None, **kwargs: Any) -> None:
            super().validate_response(response, case, additional_checks=ADDED, **kwargs)
            POOL.harvest(response.json())

    Chains.run(settings=settings(FUZZ, max_examples=20, stateful_step_count=12))
