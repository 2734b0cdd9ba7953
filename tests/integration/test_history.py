"""The auditor's reads through the real ASGI app: every record's history with who did each
step, any invoice exactly as it was at a version or a moment (and its PDF), and errors."""

from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from simplejson import RawJSON

from gateway.services import Services
from tests.conftest import Api, FakeClock, Tenant, assert_error, payload
from tests.pdf_support import pdf_text

UNKNOWN_ID = "6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text[:500])
    return payload(response)["data"]


def history(api: Api, kind: str, record_id: str) -> list[dict[str, Any]]:
    return ok(api.get(f"/api/v1/{kind}/{record_id}/history"))  # type: ignore[no-any-return]


def detail_at(api: Api, invoice_id: str, **query: str) -> dict[str, Any]:
    return ok(api.get(f"/api/v1/invoices/{invoice_id}", **query))  # type: ignore[no-any-return]


@pytest.fixture
def second(services: Services, tenant: Tenant, http) -> Api:
    """A second key of the same account, with its own label."""
    key_id, key = services.execute(lambda: services.app.issue_api_key(tenant.account_id, "bookkeeper"))
    return Api(http, Tenant(tenant.account_id, key_id, key))


class Recorder:
    """Arranges an invoice's life over HTTP and keeps the detail as it read after each step."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.seen: dict[int, dict[str, Any]] = {}

    def step(self, invoice_id: str) -> dict[str, Any]:
        detail = self.api.invoice(invoice_id)
        self.seen[int(detail["version"]) if "version" in detail else len(self.seen) + 1] = detail
        return detail


def versions(entries: list[dict[str, Any]]) -> list[int]:
    return [int(entry["version"]) for entry in entries]


# --- history ---------------------------------------------------------------------------------


def test_an_invoice_history_tells_each_step_in_business_words_with_its_actor(
    api: Api, second: Api, tenant: Tenant, clock: FakeClock
):
    client = api.create_client(name="Acme Corp", email="billing@acme.test")
    invoice_id = api.create_invoice(client["id"], notes="First")["id"]
    ok(second.put(f"/api/v1/invoices/{invoice_id}", {"notes": "Second", "lineItems": [
        {"description": "Design", "quantity": 2, "unitPrice": 100, "taxRate": 0}
    ]}))
    sent = ok(api.post(f"/api/v1/invoices/{invoice_id}/send", {"message": "Thanks"}))
    token = sent["shareUrl"].rsplit("/", 1)[-1]
    assert api.http.get(f"/i/{token}").status_code == 200
    clock.advance(days=1)
    payment_id = ok(second.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": 50, "method": "cash"}), 201)[
        "id"
    ]
    assert api.delete(f"/api/v1/invoices/{invoice_id}/payments/{payment_id}").status_code in (200, 204)
    ok(api.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": RawJSON("200.00")}), 201)

    entries = history(api, "invoices", invoice_id)
    assert [e["type"] for e in entries] == [
        "created", "updated", "sent", "viewed", "paymentRecorded", "paymentReversed", "paymentRecorded"
    ]
    assert versions(entries) == list(range(1, 8))
    first_key = {"type": "apiKey", "id": str(tenant.key_id), "name": "tests"}
    second_key = {"type": "apiKey", "id": str(second.tenant.key_id), "name": "bookkeeper"}  # type: ignore[union-attr]
    assert [e["actor"] for e in entries] == [
        first_key, second_key, first_key, {"type": "system", "name": "share link"}, second_key, first_key, first_key
    ]
    created, updated, sent_entry, viewed, paid, reversed_, settled = entries
    assert created["changes"]["invoiceNumber"] == "INV-0001"
    assert created["changes"]["status"] == "DRAFT" and created["changes"]["notes"] == "First"
    assert created["changes"]["lineItems"][0]["unitPrice"] == 125 and created["previous"] == {}
    assert updated["changes"]["notes"] == "Second" and updated["previous"]["notes"] == "First"
    assert updated["changes"]["lineItems"] == [
        {"description": "Design", "quantity": 2, "unitPrice": 100, "amount": Decimal("200.00"), "taxRate": 0,
         "discountRate": 0, "discount": Decimal("0.00")}
    ]
    assert (updated["changes"]["total"], updated["previous"]["total"]) == (Decimal("200.00"), Decimal("5500.00"))
    assert set(updated["changes"]) == {"notes", "lineItems", "subtotal", "taxTotal", "total", "balanceDue"}
    assert sent_entry["changes"]["status"] == "SENT" and sent_entry["previous"]["status"] == "DRAFT"
    assert sent_entry["changes"]["message"] == "Thanks" and sent_entry["changes"]["email"] is False
    assert viewed["changes"]["status"] == "VIEWED" and viewed["changes"]["viewedAt"]
    assert paid["changes"]["payment"]["id"] == payment_id and paid["changes"]["payment"]["method"] == "cash"
    assert (paid["changes"]["status"], paid["changes"]["amountPaid"]) == ("PARTIALLY_PAID", Decimal("50.00"))
    assert reversed_["changes"]["payment"]["reversedAt"] and reversed_["changes"]["status"] == "VIEWED"
    assert settled["changes"]["status"] == "PAID" and settled["changes"]["balanceDue"] == Decimal("0.00")
    for entry in entries:
        assert set(entry) == {"version", "type", "occurredAt", "actor", "changes", "previous"}
        assert entry["occurredAt"].endswith("Z")
    occurred = [e["occurredAt"] for e in entries]
    assert occurred == sorted(occurred)


def test_void_and_deleted_drafts_keep_their_history(api: Api):
    client_id = api.create_client()["id"]
    voided = api.create_invoice(client_id)["id"]
    ok(api.post(f"/api/v1/invoices/{voided}/send", None))
    ok(api.post(f"/api/v1/invoices/{voided}/void", {"reason": "Duplicate"}))
    entries = history(api, "invoices", voided)
    assert [e["type"] for e in entries] == ["created", "sent", "voided"]
    assert entries[-1]["changes"]["voidReason"] == "Duplicate" and entries[-1]["changes"]["status"] == "VOID"
    assert (entries[-1]["previous"]["status"], entries[-1]["previous"]["balanceDue"]) == ("SENT", Decimal("5500.00"))
    assert detail_at(api, voided, version="2")["status"] == "SENT"
    assert detail_at(api, voided, version="3") == api.invoice(voided)
    assert detail_at(api, voided, asOf=entries[1]["occurredAt"])["voidedAt"] is None

    draft = api.create_invoice(client_id)["id"]
    assert api.delete(f"/api/v1/invoices/{draft}").status_code == 204
    assert_error(api.get(f"/api/v1/invoices/{draft}"), 404)
    entries = history(api, "invoices", draft)
    assert [e["type"] for e in entries] == ["created", "deleted"]
    assert detail_at(api, draft, version="1")["id"] == draft  # and as it was before
    assert_error(api.get(f"/api/v1/invoices/{draft}", version="2"), 404)  # deleted then


def test_a_client_history(api: Api, second: Api):
    client_id = api.create_client(name="Acme", email="a@acme.test")["id"]
    ok(second.put(f"/api/v1/clients/{client_id}", {"name": "Acme Corporation", "taxId": "US-1"}))
    assert api.delete(f"/api/v1/clients/{client_id}").status_code == 204
    entries = history(api, "clients", client_id)
    assert [e["type"] for e in entries] == ["created", "updated", "deactivated"]
    assert entries[0]["changes"] == {
        "name": "Acme", "email": "a@acme.test", "address": None, "taxId": None, "phone": None, "notes": None,
        "isActive": True,
    }
    assert entries[1]["changes"] == {"name": "Acme Corporation", "taxId": "US-1"}
    assert entries[1]["previous"] == {"name": "Acme", "taxId": None}
    assert entries[1]["actor"]["name"] == "bookkeeper"
    assert entries[2]["changes"] == {"isActive": False}


def test_another_accounts_records_and_unknown_ids_are_404(api: Api, open_tenant, http):
    client_id = api.create_client()["id"]
    invoice_id = api.create_invoice(client_id)["id"]
    other = Api(http, open_tenant("pro", "Other"))
    for path in (f"/api/v1/invoices/{invoice_id}/history", f"/api/v1/clients/{client_id}/history"):
        assert_error(other.get(path), 404)
    for path in (
        f"/api/v1/invoices/{UNKNOWN_ID}/history",
        f"/api/v1/clients/{UNKNOWN_ID}/history",
        "/api/v1/invoices/not-an-id/history",
        f"/api/v1/invoices/{client_id}/history",  # a client's id is no invoice
        f"/api/v1/clients/{invoice_id}/history",
    ):
        assert_error(api.get(path), 404)
    assert_error(other.get(f"/api/v1/invoices/{invoice_id}", version="1"), 404)
    assert_error(other.get(f"/api/v1/invoices/{invoice_id}/pdf", version="1"), 404)
    assert_error(api.get(f"/api/v1/invoices/{client_id}", version="1"), 404)


def test_actors_of_the_command_line_and_the_sweep(api: Api, services: Services, cli, tenant: Tenant):
    client_id = api.create_client()["id"]
    past_due = {"issueDate": "2024-05-01", "dueDate": "2024-05-31"}
    by_cli, by_sweep = (api.create_invoice(client_id, **past_due)["id"] for _ in range(2))
    ok(api.post(f"/api/v1/invoices/{by_cli}/send", None))
    code, out, err = cli("invoices", "mark-overdue")
    assert code == 0, err
    ok(api.post(f"/api/v1/invoices/{by_sweep}/send", None))
    services.projector.catch_up()
    assert services.overdue_sweep().run_once() == 1
    cli_actor = history(api, "invoices", by_cli)[-1]
    assert (cli_actor["type"], cli_actor["actor"]["type"], cli_actor["actor"]["name"]) == (
        "overdue", "cli", "invoices mark-overdue"
    )
    assert cli_actor["actor"].get("id")  # the operating-system user who ran it
    swept = history(api, "invoices", by_sweep)[-1]
    assert (swept["type"], swept["actor"]) == ("overdue", {"type": "system", "name": "overdue sweep"})
    assert (swept["changes"]["status"], swept["previous"]["status"]) == ("OVERDUE", "SENT")
    code, _, err = cli("accounts", "update", str(tenant.account_id), "--name", "Renamed Ltd")
    assert code == 0, err
    renamed = services.app.sealed_events(tenant.account_id)[-1][1]
    assert renamed is not None and renamed["actor"]["name"] == "accounts update"


# --- as it was ---------------------------------------------------------------------------------


def test_every_version_reads_back_exactly_as_the_detail_read_then(api: Api, clock: FakeClock):
    client = api.create_client(name="Acme Corp", email="billing@acme.test")
    recorder = Recorder(api)
    invoice_id = api.create_invoice(client["id"])["id"]
    recorder.step(invoice_id)
    ok(api.put(f"/api/v1/invoices/{invoice_id}", {"notes": "Net 30", "currency": "EUR"}))
    recorder.step(invoice_id)
    ok(api.post(f"/api/v1/invoices/{invoice_id}/send", {"message": "Hello"}))
    recorder.step(invoice_id)
    clock.advance(days=2)
    payment_id = ok(api.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": 1000}), 201)["id"]
    recorder.step(invoice_id)
    assert api.delete(f"/api/v1/invoices/{invoice_id}/payments/{payment_id}").status_code in (200, 204)
    recorder.step(invoice_id)
    ok(api.put(f"/api/v1/clients/{client['id']}", {"name": "Acme Renamed", "email": "new@acme.test"}))
    ok(api.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": RawJSON("5500.00")}), 201)
    recorder.step(invoice_id)

    entries = history(api, "invoices", invoice_id)
    assert versions(entries) == sorted(recorder.seen)
    for entry in entries:
        then = recorder.seen[int(entry["version"])]
        assert detail_at(api, invoice_id, version=str(entry["version"])) == then
        assert detail_at(api, invoice_id, asOf=entry["occurredAt"]) == then
    assert recorder.seen[5]["client"]["name"] == "Acme Corp"  # the client as it was then
    assert detail_at(api, invoice_id, version="6")["client"]["name"] == "Acme Renamed"
    assert detail_at(api, invoice_id, asOf="2999-01-01T00:00:00Z") == api.invoice(invoice_id)


def test_as_of_between_versions_is_the_last_version_before(api: Api):
    invoice_id = api.create_invoice(api.create_client()["id"])["id"]
    ok(api.put(f"/api/v1/invoices/{invoice_id}", {"notes": "later"}))
    first, second = history(api, "invoices", invoice_id)
    assert detail_at(api, invoice_id, asOf=first["occurredAt"])["notes"] is None
    assert detail_at(api, invoice_id, asOf=second["occurredAt"])["notes"] == "later"
    offset = second["occurredAt"].replace("Z", "+00:00")
    assert detail_at(api, invoice_id, asOf=offset)["notes"] == "later"  # an offset is a moment too


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"version": "0"}, 400),
        ({"version": "-1"}, 400),
        ({"version": "1.5"}, 400),
        ({"version": "abc"}, 400),
        ({"version": ""}, 400),
        ({"version": "99999999999999999999999"}, 400),
        ({"version": "3"}, 404),
        ({"version": "999999"}, 404),
        ({"asOf": "yesterday"}, 400),
        ({"asOf": "2024-06-15"}, 400),
        ({"asOf": ""}, 400),
        ({"asOf": "2024-13-45T00:00:00Z"}, 400),
        ({"asOf": "2000-01-01T00:00:00Z"}, 404),
        ({"asOf": "0001-01-01T00:00:00+14:00"}, 404),
        ({"version": "1", "asOf": "2999-01-01T00:00:00Z"}, 400),
    ],
)
def test_bad_versions_and_moments(api: Api, query, status):
    invoice_id = api.create_invoice(api.create_client()["id"])["id"]
    ok(api.put(f"/api/v1/invoices/{invoice_id}", {"notes": "v2"}))
    message = assert_error(api.get(f"/api/v1/invoices/{invoice_id}", **query), status)
    assert "version" in message or "asOf" in message or "as of" in message
    assert_error(api.get(f"/api/v1/invoices/{invoice_id}/pdf", **query), status)


def test_a_past_version_renders_as_a_pdf(api: Api, services: Services):
    client_id = api.create_client(name="Acme Corp")["id"]
    invoice_id = api.create_invoice(client_id, notes="The first words")["id"]
    ok(api.put(f"/api/v1/invoices/{invoice_id}", {"notes": "Words written later"}))
    ok(api.put(f"/api/v1/clients/{client_id}", {"name": "Beta Industries"}))
    old = api.get(f"/api/v1/invoices/{invoice_id}/pdf", version="1")
    assert old.status_code == 200 and old.headers["content-type"] == "application/pdf"
    text = pdf_text(old.content)
    assert "The first words" in text and "Acme Corp" in text and "Beta" not in text
    current = api.get(f"/api/v1/invoices/{invoice_id}/pdf")
    assert "Words written later" in pdf_text(current.content) and "Beta Industries" in pdf_text(current.content)
    assert old.headers["etag"] != current.headers["etag"]
    again = api.request("GET", f"/api/v1/invoices/{invoice_id}/pdf", params={"version": "1"},
                        headers={"If-None-Match": old.headers["etag"]})
    assert again.status_code == 304
    latest = api.get(f"/api/v1/invoices/{invoice_id}/pdf", version="2")  # the client was renamed after it
    assert "Words written later" in pdf_text(latest.content) and "Acme Corp" in pdf_text(latest.content)
    assert latest.headers["etag"] != current.headers["etag"]
    now = api.get(f"/api/v1/invoices/{invoice_id}/pdf", asOf="2999-01-01T00:00:00Z")
    assert now.headers["etag"] == current.headers["etag"]  # as of now: the very document served now


def test_an_invoice_with_a_thousand_events_reads_its_history_and_any_version(api: Api, services: Services, tenant):
    invoice_id = UUID(api.create_invoice(api.create_client()["id"])["id"])
    for number in range(2, 1001):
        services.app.update_invoice(tenant.account_id, invoice_id, {"notes": f"Revision {number}"})
    services.projector.catch_up()
    entries = history(api, "invoices", str(invoice_id))
    assert len(entries) == 1000 and entries[-1]["changes"] == {"notes": "Revision 1000"}
    assert detail_at(api, str(invoice_id), version="500")["notes"] == "Revision 500"
    assert detail_at(api, str(invoice_id), version="1000") == api.invoice(str(invoice_id))
    assert detail_at(api, str(invoice_id), asOf=entries[749]["occurredAt"])["notes"] in {
        "Revision 750", *(f"Revision {n}" for n in range(751, 760))  # events recorded within the same millisecond
    }
    # Snapshots every 50 events: loading any version replays at most 49 events.
    snapshots = services.app.snapshots
    assert snapshots is not None
    assert [s.originator_version for s in snapshots.get(invoice_id)][-1] == 1000
    rebuilt = services.app.repository.get(invoice_id, version=777)
    assert rebuilt.notes == "Revision 777" and rebuilt.version == 777


def test_a_snapshot_holds_payments(api: Api, services: Services, tenant):
    invoice_id = UUID(api.create_invoice(api.create_client()["id"])["id"])
    ok(api.post(f"/api/v1/invoices/{invoice_id}/send", None))
    paid = [
        services.app.record_payment(tenant.account_id, invoice_id, Decimal("10.00"), method="card") for _ in range(30)
    ]
    for payment_id in paid[:19]:
        services.app.reverse_payment(tenant.account_id, invoice_id, payment_id)
    invoice = services.app.repository.get(invoice_id)
    assert invoice.version == 51 and invoice.amount_paid == Decimal("110.00")
    assert services.app.snapshots is not None
    assert [s.originator_version for s in services.app.snapshots.get(invoice_id)] == [50]
    from_events: Any = None
    for event in services.app.events.get(invoice_id):
        from_events = event.mutate(from_events)  # type: ignore[attr-defined]
    assert vars(from_events) == vars(invoice)  # the snapshot restores exactly what replaying does
    assert invoice.payments[str(paid[0])].reversed_at is not None
