"""A store changed outside the service is never served as truth.

Each test writes books through the real API, changes the event store by hand (SQL on the
SQLite file or the PostgreSQL schema, as anyone with the database could), and starts the
service again (a new process holds nothing of what the old one verified). Loading a stream
whose seals do not verify is refused with ``Unverified`` naming the stream, recorded for
health (``domain.integrity.failures``) and logged once; a rebuild refuses to project it
and leaves the live read model as it was.
"""

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain import integrity
from domain.integrity import Unverified
from domain.invoice import InvoiceDraft, Sending
from domain.money import LineItemDraft
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Api, FakeClock, Tenant, dump_read_model, payload
from tests.dashboard_support import Browser, make_owner, text_of
from tests.integrity_support import Restarts, Store, Stored, resealed
from usecases.invoices import Moment

# Unverified, code INTEGRITY_FAILURE: the server's data is at fault, not the request, and no
# retry helps until an operator repairs the store (gateway/http/codes.py maps it).
REQUESTED_STATUS = 503


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text[:500])
    return payload(response)["data"]


@dataclass
class Books:
    api: Api
    invoice: str
    payment: str
    client: str


@pytest.fixture(autouse=True)
def no_failures_yet() -> Iterator[None]:
    integrity.forget_all()
    yield
    integrity.forget_all()


@pytest.fixture
def books(api: Api) -> Books:
    client = api.create_client(email="billing@acme.test")["id"]
    invoice = api.create_invoice(client)["id"]
    ok(api.patch(f"/api/v1/invoices/{invoice}", {"notes": "Thank you"}))
    ok(api.post(f"/api/v1/invoices/{invoice}/send", {}))
    payment = ok(api.post(f"/api/v1/invoices/{invoice}/payments", {"amount": "10.00"}), 201)["id"]
    ok(api.patch(f"/api/v1/clients/{client}", {"phone": "+1-555-0100"}))
    ok(api.patch(f"/api/v1/clients/{client}", {"notes": "Pays on time"}))
    return Books(api, invoice, payment, client)


@pytest.fixture
def restart(settings: Settings, clock: FakeClock, tenant: Tenant) -> Iterator[Callable[[], tuple[Services, Api]]]:
    with Restarts(settings, clock, tenant) as restarts:
        yield restarts.start


def payment_row(store: Store, invoice: str) -> Stored:
    return next(row for row in store.rows(invoice) if row.topic.endswith("PaymentRecorded"))


def with_amount(row: Stored, amount: str) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(json.dumps(row.state))
    assert state["amount"]["_data_"] == "10.00", state["amount"]
    state["amount"]["_data_"] = amount
    return state


def refused(response: Any, stream: str) -> str:
    """An answer that is not a 5xx of an unexpected failure: the requested status, naming the stream."""
    assert response.status_code == REQUESTED_STATUS, (response.status_code, response.text[:500])
    message = str(payload(response)["error"])
    assert stream in message and "does not verify" in message and "Traceback" not in response.text, message
    assert payload(response)["code"] == "INTEGRITY_FAILURE", response.text
    return message


# --- an edited payment ----------------------------------------------------------------------------


def test_an_edited_payment_is_refused_everywhere_and_named(
    books: Books, settings: Settings, restart: Callable[[], tuple[Services, Api]], caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(settings)
    row = payment_row(store, books.invoice)
    store.write(books.invoice, row, with_amount(row, "99.00"))
    services, api = restart()
    account = books.api.tenant.account_id  # type: ignore[union-attr]
    invoice_id = UUID(books.invoice)
    length = services.app.recorder.max_notification_id()

    with caplog.at_level(logging.ERROR, logger="cleverinvo"):
        # the use cases: a past version, the history, a new payment
        with pytest.raises(Unverified) as past:
            services.usecases.invoices.get(account, invoice_id, Moment(version=row.version))
        assert past.value.stream == books.invoice and past.value.code == "INTEGRITY_FAILURE"
        assert "Invoice " + books.invoice in past.value.message
        assert f"version {row.version} does not match its seal" in past.value.message
        with pytest.raises(Unverified):
            services.usecases.auditing.invoice_history(account, invoice_id)
        with pytest.raises(Unverified):
            services.app.record_payment(account, invoice_id, Decimal("1.00"))
        assert services.app.recorder.max_notification_id() == length  # nothing written

    # logged once, as one structured line, however often it was met
    lines = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "integrityFailure"]
    assert len(lines) == 1 and lines[0].fields["stream"] == books.invoice  # type: ignore[attr-defined]
    assert lines[0].fields["kind"] == "Invoice"  # type: ignore[attr-defined]
    # recorded for health
    assert [failure.stream for failure in integrity.failures()] == [books.invoice]
    assert f"version {row.version}" in integrity.failures()[0].reason

    # an earlier version, before the edit, still verifies and is served
    assert services.usecases.invoices.get(account, invoice_id, Moment(version=row.version - 1)).invoice

    # the client, untouched, is served as before
    assert ok(api.get(f"/api/v1/clients/{books.client}/history"))


def test_an_edited_payment_is_refused_through_rest_and_graphql(
    books: Books, settings: Settings, restart: Callable[[], tuple[Services, Api]]
) -> None:
    store = Store(settings)
    row = payment_row(store, books.invoice)
    store.write(books.invoice, row, with_amount(row, "99.00"))
    services, api = restart()
    length = services.app.recorder.max_notification_id()
    refused(api.get(f"/api/v1/invoices/{books.invoice}", version=str(row.version)), books.invoice)
    refused(api.get(f"/api/v1/invoices/{books.invoice}/history"), books.invoice)
    refused(api.post(f"/api/v1/invoices/{books.invoice}/payments", {"amount": "1.00"}), books.invoice)
    assert services.app.recorder.max_notification_id() == length
    body = api.http.post(
        "/graphql",
        json={
            "query": "query($id: ID!) { invoice(id: $id) { history { version } } }",
            "variables": {"id": books.invoice},
        },
        headers=api.tenant.headers,  # type: ignore[union-attr]
    ).json()
    error = body["errors"][0]
    assert books.invoice in error["message"] and "does not verify" in error["message"], body
    assert error["extensions"]["code"] == "UNAVAILABLE", body  # GraphQL's coarse word for a 503
    assert error["extensions"]["reason"] == "INTEGRITY_FAILURE", body


def test_a_resealed_edit_is_caught_by_the_chain(
    books: Books, settings: Settings, restart: Callable[[], tuple[Services, Api]]
) -> None:
    """The edited event's own seal made right again: the next version no longer chains to it."""
    store = Store(settings)
    row = next(r for r in store.rows(books.invoice) if r.topic.endswith("InvoiceUpdated"))
    state = json.loads(json.dumps(row.state))
    state["changes"]["notes"] = "Pay to another account"
    store.write(books.invoice, row, resealed(books.invoice, row, state))
    services, _ = restart()
    account = books.api.tenant.account_id  # type: ignore[union-attr]
    with pytest.raises(Unverified) as caught:
        services.app.get_invoice(account, UUID(books.invoice))
    assert f"version {row.version + 1} does not chain to version {row.version}" in caught.value.message


# --- a deleted event --------------------------------------------------------------------------


def test_a_deleted_middle_event_is_refused_not_a_500(
    books: Books, settings: Settings, restart: Callable[[], tuple[Services, Api]]
) -> None:
    store = Store(settings)
    middle = store.rows(books.invoice)[1]
    store.delete(books.invoice, middle.version)
    services, api = restart()
    message = refused(api.get(f"/api/v1/invoices/{books.invoice}/history"), books.invoice)
    assert f"version {middle.version} is missing" in message
    length = services.app.recorder.max_notification_id()
    refused(api.post(f"/api/v1/invoices/{books.invoice}/payments", {"amount": "1.00"}), books.invoice)
    refused(api.post(f"/api/v1/invoices/{books.invoice}/void", {}), books.invoice)
    assert services.app.recorder.max_notification_id() == length
    account = books.api.tenant.account_id  # type: ignore[union-attr]
    with pytest.raises(Unverified):
        services.usecases.auditing.invoice_history(account, UUID(books.invoice))


def test_a_deleted_first_event_is_refused(
    books: Books, settings: Settings, restart: Callable[[], tuple[Services, Api]]
) -> None:
    store = Store(settings)
    store.delete(books.client, 1)
    services, api = restart()
    with pytest.raises(Unverified) as caught:
        services.app.sealed_events(UUID(books.client))
    assert "version 1 is missing" in caught.value.message


# --- a rebuild ----------------------------------------------------------------------------------


def test_a_rebuild_refuses_an_unverifiable_stream_and_leaves_the_live_tables(
    books: Books, settings: Settings, restart: Callable[[], tuple[Services, Api]]
) -> None:
    store = Store(settings)
    row = payment_row(store, books.invoice)
    services, _ = restart()
    before = dump_read_model(services)
    store.write(books.invoice, row, with_amount(row, "99.00"))
    with pytest.raises(Unverified) as caught:
        services.projector.rebuild()
    assert caught.value.stream == books.invoice and f"version {row.version}" in caught.value.message
    assert dump_read_model(services) == before  # still the amounts as they were paid
    assert [failure.stream for failure in integrity.failures()] == [books.invoice]


def test_a_rebuild_refuses_a_stream_with_a_gap(
    books: Books, settings: Settings, restart: Callable[[], tuple[Services, Api]]
) -> None:
    store = Store(settings)
    services, _ = restart()
    store.delete(books.client, 2)
    with pytest.raises(Unverified) as gap:
        services.projector.rebuild()
    assert gap.value.stream == books.client and "version 2 is missing" in gap.value.message


def test_a_rebuild_refuses_a_resealed_edit(
    books: Books, settings: Settings, restart: Callable[[], tuple[Services, Api]]
) -> None:
    store = Store(settings)
    services, _ = restart()
    row = next(r for r in store.rows(books.invoice) if r.topic.endswith("InvoiceUpdated"))
    state = json.loads(json.dumps(row.state))
    state["changes"]["notes"] = "Pay to another account"
    store.write(books.invoice, row, resealed(books.invoice, row, state))
    with pytest.raises(Unverified) as caught:
        services.projector.rebuild()
    assert f"version {row.version + 1} does not chain to version {row.version}" in caught.value.message


def test_a_clean_store_rebuilds_and_loads(books: Books, restart: Callable[[], tuple[Services, Api]]) -> None:
    services, api = restart()
    services.projector.rebuild()
    assert ok(api.get(f"/api/v1/invoices/{books.invoice}/history"))
    assert integrity.failures() == []


def test_the_rebuild_command_names_the_stream_and_exits_1(
    books: Books, settings: Settings, cli: Callable[..., tuple[int, list[str], str]]
) -> None:
    store = Store(settings)
    row = payment_row(store, books.invoice)
    store.write(books.invoice, row, with_amount(row, "99.00"))
    code, out, err = cli("projections", "rebuild")
    assert code == 1 and out == [], (out, err)
    assert err.startswith("cleverinvo: The stored history of Invoice " + books.invoice), err
    assert "Traceback" not in err


def test_the_overdue_sweep_passes_over_an_unverifiable_invoice(
    books: Books, settings: Settings, clock: FakeClock, restart: Callable[[], tuple[Services, Api]]
) -> None:
    """Each sweep would otherwise stop at it, and no later invoice would ever be marked."""
    other = books.api.create_invoice(books.client)["id"]
    ok(books.api.post(f"/api/v1/invoices/{other}/send", {}))
    store = Store(settings)
    row = payment_row(store, books.invoice)
    store.write(books.invoice, row, with_amount(row, "99.00"))
    clock.advance(days=45)
    services, api = restart()
    assert services.overdue_sweep().sweep() == 1
    assert api.invoice(other)["status"] == "OVERDUE"
    assert [failure.stream for failure in integrity.failures()] == [books.invoice]


def test_the_dashboard_shows_the_refusal_as_a_page(
    services: Services, settings: Settings, restart: Callable[[], tuple[Services, Api]]
) -> None:
    owner = make_owner(services)
    app, account = services.app, owner.account_id
    client = services.execute(lambda: app.create_client(account, {"name": "Acme Corp"}))
    lines = [LineItemDraft("Design", Decimal(1), Decimal("100.00"))]
    invoice = services.execute(lambda: app.create_invoice(account, InvoiceDraft(client, lines)))
    services.execute(lambda: app.send_invoice(account, invoice, Sending()))
    services.execute(lambda: app.record_payment(account, invoice, Decimal("10.00")))
    store = Store(settings)
    row = payment_row(store, str(invoice))
    store.write(str(invoice), row, with_amount(row, "99.00"))
    _, api = restart()
    browser = Browser(api.http)
    browser.sign_in(owner)
    page = browser.get(f"/dashboard/invoices/{invoice}")
    assert page.status_code == REQUESTED_STATUS, page.text[:300]
    assert page.headers["content-type"].startswith("text/html")
    assert f"The stored history of Invoice {invoice} does not verify" in text_of(page.text)


def test_the_share_link_of_a_tampered_invoice_is_a_page_saying_so(
    books: Books, settings: Settings, restart: Callable[[], tuple[Services, Api]]
) -> None:
    url = books.api.invoice(books.invoice)["shareUrl"]
    path = url[url.index("/i/") :]
    store = Store(settings)
    row = payment_row(store, books.invoice)
    store.write(books.invoice, row, with_amount(row, "99.00"))
    _, api = restart()
    page = api.http.get(path, headers={"Accept-Language": "es"})
    assert page.status_code == REQUESTED_STATUS, page.text[:300]
    assert page.headers["content-type"].startswith("text/html")
    assert "Factura no disponible" in page.text
    assert page.headers["x-frame-options"] == "DENY"
