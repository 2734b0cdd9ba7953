"""GET /api/v1/events: the account's events in commit order, followed while writes go on."""

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain.actors import acting_as, system
from domain.invoice import InvoiceDraft
from domain.money import LineItemDraft
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Api, Tenant, assert_error, payload
from usecases.history import kind_of


def page(api: Api, after: int, limit: int) -> dict[str, Any]:
    response = api.get("/api/v1/events", after=str(after), limit=str(limit))
    assert response.status_code == 200, response.text
    return payload(response)  # type: ignore[no-any-return]


def follow(api: Api, after: int = 0, limit: int = 3) -> tuple[list[dict[str, Any]], int]:
    """Every page from ``after`` until one comes back empty; returns the items and ``next``."""
    items: list[dict[str, Any]] = []
    while True:
        body = page(api, after, limit)
        assert int(body["next"]) >= after
        items += body["data"]
        if not body["data"]:
            return items, int(body["next"])
        after = int(body["next"])


def recorded(services: Services, account_id: UUID) -> list[tuple[str, int]]:
    """The account's invoice, client and account events in commit order, read from the store."""
    found = []
    for note in services.app.recorder.select_notifications(start=1, limit=1_000_000):
        sealed = services.app.sealed_event(note.id)
        assert sealed is not None
        event, ledger = sealed
        if ledger is not None and ledger["account"] == str(account_id) and kind_of(event) is not None:
            found.append((str(event.originator_id), event.originator_version))
    return found


def draft(client_id: UUID) -> InvoiceDraft:
    return InvoiceDraft(client_id=client_id, line_items=[LineItemDraft("Work", Decimal(1), Decimal(100))])


def test_the_feed_tells_the_accounts_events_once_in_commit_order(api: Api, services: Services, tenant: Tenant, http,
                                                                  open_tenant):
    other = Api(http, open_tenant("pro", "Other"))
    client_id = api.create_client(name="Acme")["id"]
    other.create_client(name="Not mine")
    invoice_id = api.create_invoice(client_id)["id"]
    assert api.put(f"/api/v1/invoices/{invoice_id}", {"notes": "Net 30"}).status_code == 200
    assert api.post(f"/api/v1/invoices/{invoice_id}/send", None).status_code == 200
    assert api.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": 10}).status_code == 201

    items, last = follow(api, limit=2)
    assert [(item["resource"]["id"], int(item["version"])) for item in items] == recorded(services, tenant.account_id)
    positions = [int(item["position"]) for item in items]
    assert positions == sorted(set(positions)) and last >= positions[-1]
    assert [item["type"] for item in items if item["resource"]["type"] == "invoice"] == [
        "created", "updated", "sent", "paymentRecorded"
    ]
    kinds = {item["resource"]["type"] for item in items}
    assert kinds == {"account", "client", "invoice"}
    issued = next(item for item in items if item["type"] == "apiKeyIssued")
    assert issued["changes"]["apiKey"] == {"id": str(tenant.key_id), "name": "tests", "prefix": issued[
        "changes"]["apiKey"]["prefix"]}
    assert "hash" not in str(issued["changes"]).lower()
    # Each item tells its event exactly as the record's own history does.
    story = {int(e["version"]): e for e in payload(api.get(f"/api/v1/invoices/{invoice_id}/history"))["data"]}
    for item in items:
        if item["resource"]["id"] == invoice_id:
            assert item["event"] == f"invoice.{item['type']}"  # the kind and the word: the feed's discriminator
            told = {k: v for k, v in item.items() if k not in ("position", "resource", "event")}
            assert told == story[int(item["version"])]
    # Nothing of the other account; and the other account sees only its own.
    theirs, _ = follow(other)
    assert {item["resource"]["id"] for item in theirs}.isdisjoint({item["resource"]["id"] for item in items})
    assert page(api, last, 10) == {"data": [], "next": last}


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """A follower polls as fast as it can while another thread writes; on a loaded machine
    that is more than the default 120 requests a minute, which is not what these tests are
    about (the budget has its own tests)."""
    return make_settings(CLEVERINVO_RATE_LIMIT="100000/minute", CLEVERINVO_ADDRESS_RATE_LIMIT="100000/minute")


def test_following_while_writes_go_on_sees_no_gap_and_no_repeat(api: Api, services: Services, tenant: Tenant,
                                                                open_tenant):
    other = open_tenant("pro", "Busy neighbour")
    client_id = UUID(api.create_client(name="Acme")["id"])
    neighbour_client = services.execute(lambda: services.app.create_client(other.account_id, {"name": "N"}))
    done = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            with acting_as(system("test writer")):
                for number in range(40):
                    mine = services.app.create_invoice(tenant.account_id, draft(client_id))
                    services.app.update_invoice(tenant.account_id, mine, {"notes": f"n{number}"})
                    services.app.create_invoice(other.account_id, draft(neighbour_client))
        except BaseException as exc:  # reported by the test below
            failures.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    items: list[dict[str, Any]] = []
    after = 0
    try:
        while True:
            finished = done.is_set()
            body = page(api, after, 7)
            items += body["data"]
            after = int(body["next"])
            if finished and not body["data"]:
                break
    finally:
        writer.join()  # never close the store under a thread still writing to it
    assert not failures, failures
    positions = [int(item["position"]) for item in items]
    assert positions == sorted(set(positions)), "a repeat or a step back"
    assert [(item["resource"]["id"], int(item["version"])) for item in items] == recorded(services, tenant.account_id)
    written = [item for item in items if item["actor"] == {"type": "system", "name": "test writer"}]
    assert len(written) == 80


@pytest.mark.parametrize(
    "query",
    [{"after": "-1"}, {"after": "x"}, {"after": "1.5"}, {"limit": "0"}, {"limit": "501"}, {"limit": "ten"}],
)
def test_bad_feed_parameters_are_400(api: Api, query: dict[str, str]):
    assert "'" in assert_error(api.get("/api/v1/events", **query), 400)


@pytest.mark.parametrize("after", ["2147483647", "2147483648", "999999999999999999"])
def test_a_cursor_past_every_position_is_an_empty_page_not_a_fault(api: Api, after: str):
    """Found by schemathesis on PostgreSQL: the ledger index's positions are a 32-bit column,
    and comparing it with a larger cursor was a 500."""
    api.create_client()
    response = api.get("/api/v1/events", after=after)
    assert response.status_code == 200, response.text
    assert payload(response) == {"data": [], "next": int(after)}


def test_the_feed_needs_a_key(anonymous: Api):
    assert_error(anonymous.get("/api/v1/events"), 401)
