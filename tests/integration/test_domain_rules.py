"""Business rules driven through the application's commands, with no HTTP in between.

The racing tests use threads against the real Services on a real SQLite file (and on
PostgreSQL). Within one process, commands on one account take turns (a lock per account);
racers on separate applications, as separate processes are, meet only on the aggregates'
versions: the limits and the numbering must be exact without any lock of ours.
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.application import CleverInvo
from domain.errors import Conflict, DomainError, NotFound, PlanLimitReached, ValidationError
from domain.invoice import InvoiceDraft, Sending
from domain.keys import looks_like_key
from domain.money import LineItemDraft
from gateway.http.auth import authenticate
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import FakeClock

RACERS = 8


@pytest.fixture
def app(services: Services) -> CleverInvo:
    return services.app


def account(app: CleverInvo, plan: str = "free") -> UUID:
    return app.open_account("Seller", plan)


def new_client(app: CleverInvo, account_id: UUID, name: str = "Acme") -> UUID:
    return app.create_client(account_id, {"name": name})


def draft(client_id: UUID, number: str | None = None, **fields: Any) -> InvoiceDraft:
    lines = [LineItemDraft("Web Development", Decimal(40), Decimal("125.00"), Decimal(10))]
    return InvoiceDraft(client_id=client_id, line_items=lines, invoice_number=number, **fields)


def race(command: Callable[[int], Any], racers: int = RACERS) -> list[Any]:
    """Runs `command(i)` in `racers` threads released at once; returns results or the domain errors raised."""
    start = threading.Barrier(racers)

    def run(i: int) -> Any:
        start.wait()
        try:
            return command(i)
        except DomainError as error:
            return error

    with ThreadPoolExecutor(racers) as pool:
        return list(pool.map(run, range(racers)))


# --- accounts and keys -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "plan", "locale"),
    [
        ("", "free", "en"),
        ("   ", "free", "en"),
        ("x" * 256, "free", "en"),
        ("Shop", "gold", "en"),
        ("Shop", "free", "fr"),
    ],
)
def test_account_with_bad_name_plan_or_locale_is_refused(app, name, plan, locale):
    with pytest.raises(ValidationError):
        app.open_account(name, plan, locale)


def test_issued_key_has_the_documented_shape_and_differs_each_time(app):
    account_id = account(app)
    keys = [app.issue_api_key(account_id, "laptop")[1] for _ in range(3)]
    assert all(key.startswith("cinv_") and looks_like_key(key) for key in keys)
    assert len(set(keys)) == 3


def test_key_cannot_be_revoked_through_another_account(app):
    owner, other = account(app), account(app)
    key_id, _ = app.issue_api_key(owner)
    with pytest.raises(NotFound):
        app.revoke_api_key(other, key_id)


def test_revoking_an_unknown_key_is_not_found(app):
    with pytest.raises(NotFound):
        app.revoke_api_key(account(app), uuid4())


def test_revoked_key_no_longer_authenticates_and_revoking_again_is_harmless(services):
    account_id = services.execute(lambda: services.app.open_account("Seller", "free"))
    key_id, key = services.execute(lambda: services.app.issue_api_key(account_id))
    assert authenticate(services, key) is not None
    services.execute(lambda: services.app.revoke_api_key(account_id, key_id))
    services.execute(lambda: services.app.revoke_api_key(account_id, key_id))
    assert authenticate(services, key) is None


def test_commands_for_an_unknown_account_are_not_found(app):
    with pytest.raises(NotFound):
        app.issue_api_key(uuid4())
    with pytest.raises(NotFound):
        app.create_client(uuid4(), {"name": "Acme"})


# --- client limits -------------------------------------------------------------------


def test_sixth_active_client_on_free_plan_is_refused(app):
    account_id = account(app, "free")
    for i in range(5):
        new_client(app, account_id, f"Client {i}")
    with pytest.raises(PlanLimitReached):
        new_client(app, account_id, "One too many")


def test_deactivating_a_client_frees_its_slot(app):
    account_id = account(app, "free")
    clients = [new_client(app, account_id, f"Client {i}") for i in range(5)]
    app.deactivate_client(account_id, clients[0])
    new_client(app, account_id, "Replacement")
    with pytest.raises(PlanLimitReached):
        new_client(app, account_id, "One too many")


def test_deactivating_a_client_twice_frees_one_slot_only(app):
    account_id = account(app, "free")
    clients = [new_client(app, account_id, f"Client {i}") for i in range(5)]
    app.deactivate_client(account_id, clients[0])
    app.deactivate_client(account_id, clients[0])
    app.update_client(account_id, clients[0], {"is_active": False})
    new_client(app, account_id, "Replacement")
    with pytest.raises(PlanLimitReached):
        new_client(app, account_id, "One too many")


def test_reactivating_a_client_counts_against_the_plan_again(app):
    account_id = account(app, "free")
    clients = [new_client(app, account_id, f"Client {i}") for i in range(5)]
    app.deactivate_client(account_id, clients[0])
    new_client(app, account_id, "Took the slot")
    with pytest.raises(PlanLimitReached):
        app.update_client(account_id, clients[0], {"is_active": True})
    assert not app.get_client(account_id, clients[0]).is_active
    app.deactivate_client(account_id, clients[1])
    app.update_client(account_id, clients[0], {"is_active": True})
    assert app.get_client(account_id, clients[0]).is_active


def test_refused_reactivation_changes_no_other_field_either(app):
    account_id = account(app, "free")
    clients = [new_client(app, account_id, f"Client {i}") for i in range(5)]
    app.deactivate_client(account_id, clients[0])
    new_client(app, account_id, "Took the slot")
    with pytest.raises(PlanLimitReached):
        app.update_client(account_id, clients[0], {"is_active": True, "name": "Renamed"})
    assert app.get_client(account_id, clients[0]).name == "Client 0"


def test_upgrading_the_plan_lifts_the_client_limit(app):
    account_id = account(app, "free")
    for i in range(5):
        new_client(app, account_id, f"Client {i}")
    app.change_plan(account_id, "pro")
    new_client(app, account_id, "Sixth")


def test_business_plan_has_no_client_limit(app):
    account_id = account(app, "business")
    for i in range(30):
        new_client(app, account_id, f"Client {i}")


def test_client_limit_stays_exact_across_many_slot_changes_and_a_restart(settings, clock):
    # Enough take/release events that the quota is snapshotted and then loaded from the snapshot.
    app = CleverInvo(settings.event_store_env(), clock=clock)
    account_id = account(app, "free")
    clients = [new_client(app, account_id, f"Client {i}") for i in range(5)]
    for _ in range(30):
        app.deactivate_client(account_id, clients[0])
        app.update_client(account_id, clients[0], {"is_active": True})
    app.close()
    app = CleverInvo(settings.event_store_env(), clock=clock)
    with pytest.raises(PlanLimitReached):
        new_client(app, account_id, "One too many")
    app.deactivate_client(account_id, clients[1])
    new_client(app, account_id, "Replacement")
    app.close()


def test_client_needs_a_name_and_a_valid_email(app):
    account_id = account(app)
    with pytest.raises(ValidationError, match="Missing required field: name"):
        app.create_client(account_id, {"email": "billing@acme.test"})
    with pytest.raises(ValidationError):
        app.create_client(account_id, {"name": "Acme", "email": "not an email"})
    with pytest.raises(ValidationError):
        app.create_client(account_id, {"name": "  "})


def test_another_accounts_client_is_not_found(app):
    owner, other = account(app), account(app)
    client_id = new_client(app, owner)
    with pytest.raises(NotFound):
        app.get_client(other, client_id)
    with pytest.raises(NotFound):
        app.update_client(other, client_id, {"name": "Mine now"})
    with pytest.raises(NotFound):
        app.deactivate_client(other, client_id)
    assert app.get_client(owner, client_id).name == "Acme"


# --- invoice limits ----------------------------------------------------------------


def test_twenty_first_invoice_in_a_month_on_free_plan_is_refused(app):
    account_id = account(app, "free")
    client_id = new_client(app, account_id)
    for _ in range(20):
        app.create_invoice(account_id, draft(client_id))
    with pytest.raises(PlanLimitReached):
        app.create_invoice(account_id, draft(client_id))


def test_invoice_limit_starts_again_next_month(app, clock: FakeClock):
    account_id = account(app, "free")
    client_id = new_client(app, account_id)
    clock.now = clock.now.replace(day=30, hour=23, minute=59)
    for _ in range(20):
        app.create_invoice(account_id, draft(client_id))
    with pytest.raises(PlanLimitReached):
        app.create_invoice(account_id, draft(client_id))
    clock.advance(minutes=2)  # 1 July, 00:01 UTC
    app.create_invoice(account_id, draft(client_id))


def test_deleting_an_invoice_does_not_give_back_its_monthly_slot(app):
    account_id = account(app, "free")
    client_id = new_client(app, account_id)
    invoices = [app.create_invoice(account_id, draft(client_id)) for _ in range(20)]
    app.delete_invoice(account_id, invoices[0])
    with pytest.raises(PlanLimitReached):
        app.create_invoice(account_id, draft(client_id))


def test_refused_invoice_takes_no_number(app, clock: FakeClock):
    account_id = account(app, "free")
    client_id = new_client(app, account_id)
    for _ in range(20):
        app.create_invoice(account_id, draft(client_id))
    with pytest.raises(PlanLimitReached):
        app.create_invoice(account_id, draft(client_id))
    with pytest.raises(PlanLimitReached):
        app.create_invoice(account_id, draft(client_id, "KEEP-1"))
    clock.advance(days=31)
    assert app.get_invoice(account_id, app.create_invoice(account_id, draft(client_id))).number == "INV-0021"
    assert app.get_invoice(account_id, app.create_invoice(account_id, draft(client_id, "KEEP-1"))).number == "KEEP-1"


# --- numbering ---------------------------------------------------------------------


def number_of(app: CleverInvo, account_id: UUID, invoice_id: UUID) -> str:
    return app.get_invoice(account_id, invoice_id).number


def test_absent_numbers_are_assigned_in_sequence(app):
    account_id = account(app, "pro")
    client_id = new_client(app, account_id)
    numbers = [number_of(app, account_id, app.create_invoice(account_id, draft(client_id))) for _ in range(3)]
    assert numbers == ["INV-0001", "INV-0002", "INV-0003"]


def test_each_account_has_its_own_sequence_and_numbers(app):
    first, second = account(app, "pro"), account(app, "pro")
    first_client, second_client = new_client(app, first), new_client(app, second)
    app.create_invoice(first, draft(first_client))
    app.create_invoice(first, draft(first_client, "SHARED-1"))
    assert number_of(app, second, app.create_invoice(second, draft(second_client))) == "INV-0001"
    assert number_of(app, second, app.create_invoice(second, draft(second_client, "SHARED-1"))) == "SHARED-1"


def test_assigned_numbers_skip_ones_already_taken(app):
    account_id = account(app, "pro")
    client_id = new_client(app, account_id)
    app.create_invoice(account_id, draft(client_id, "INV-0002"))
    app.create_invoice(account_id, draft(client_id, "inv-0003"))
    numbers = [number_of(app, account_id, app.create_invoice(account_id, draft(client_id))) for _ in range(2)]
    assert numbers == ["INV-0001", "INV-0004"]


def test_duplicate_number_is_a_conflict_regardless_of_case(app):
    account_id = account(app, "pro")
    client_id = new_client(app, account_id)
    app.create_invoice(account_id, draft(client_id, "INV-0042"))
    for number in ("INV-0042", "inv-0042", "  Inv-0042  "):
        with pytest.raises(Conflict):
            app.create_invoice(account_id, draft(client_id, number))


def test_number_of_a_deleted_invoice_can_be_used_again(app):
    account_id = account(app, "pro")
    client_id = new_client(app, account_id)
    first = app.create_invoice(account_id, draft(client_id, "INV-0042"))
    app.delete_invoice(account_id, first)
    second = app.create_invoice(account_id, draft(client_id, "inv-0042"))
    assert number_of(app, account_id, second) == "inv-0042"


def test_renumbering_an_invoice_frees_its_old_number_and_takes_the_new(app):
    account_id = account(app, "pro")
    client_id = new_client(app, account_id)
    invoice_id = app.create_invoice(account_id, draft(client_id, "OLD-1"))
    app.update_invoice(account_id, invoice_id, {"invoice_number": "NEW-1"})
    with pytest.raises(Conflict):
        app.create_invoice(account_id, draft(client_id, "new-1"))
    assert number_of(app, account_id, app.create_invoice(account_id, draft(client_id, "OLD-1"))) == "OLD-1"


def test_renumbering_to_a_taken_number_is_a_conflict_and_changes_nothing(app):
    account_id = account(app, "pro")
    client_id = new_client(app, account_id)
    app.create_invoice(account_id, draft(client_id, "TAKEN"))
    invoice_id = app.create_invoice(account_id, draft(client_id, "MINE"))
    with pytest.raises(Conflict):
        app.update_invoice(account_id, invoice_id, {"invoice_number": "taken", "notes": "changed"})
    invoice = app.get_invoice(account_id, invoice_id)
    assert (invoice.number, invoice.notes) == ("MINE", None)


def test_an_invoice_may_change_the_case_of_its_own_number(app):
    account_id = account(app, "pro")
    client_id = new_client(app, account_id)
    invoice_id = app.create_invoice(account_id, draft(client_id, "inv-0042"))
    app.update_invoice(account_id, invoice_id, {"invoice_number": "INV-0042"})
    assert number_of(app, account_id, invoice_id) == "INV-0042"
    with pytest.raises(Conflict):
        app.create_invoice(account_id, draft(client_id, "Inv-0042"))


# --- invoice rules -------------------------------------------------------------------


def test_new_invoice_is_a_priced_draft_dated_today_and_due_in_30_days(app):
    account_id = account(app, "pro")
    invoice = app.get_invoice(account_id, app.create_invoice(account_id, draft(new_client(app, account_id))))
    assert invoice.status == "DRAFT"
    assert (invoice.currency, invoice.issue_date, invoice.due_date) == ("USD", date(2024, 6, 15), date(2024, 7, 15))
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("5000.00"),
        Decimal("500.00"),
        Decimal(5500),
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"issue_date": date(2024, 6, 2), "due_date": date(2024, 6, 1)},
        {"currency": "XYZ"},
        {"line_items": []},
        {"line_items": [LineItemDraft("Item", Decimal(1), Decimal(1))] * 501},
        {"invoice_number": "   "},
        {"invoice_number": "x" * 65},
        {"invoice_number": "INV\n1"},
        {"notes": "x" * 5001},
        {"issue_date": date(9999, 12, 31)},  # no day 30 days later to default dueDate to
    ],
)
def test_invoice_breaking_a_rule_is_refused(app, fields):
    account_id = account(app, "pro")
    client_id = new_client(app, account_id)
    base = draft(client_id)
    values = {"line_items": base.line_items, **fields}
    with pytest.raises(ValidationError):
        app.create_invoice(account_id, InvoiceDraft(client_id=client_id, **values))


def test_invoice_for_an_inactive_or_foreign_or_unknown_client_is_refused(app):
    account_id, other = account(app, "pro"), account(app, "pro")
    inactive = new_client(app, account_id)
    app.deactivate_client(account_id, inactive)
    foreign = new_client(app, other)
    for client_id in (inactive, foreign, uuid4()):
        with pytest.raises(ValidationError):
            app.create_invoice(account_id, draft(client_id))


def test_invoice_can_move_to_another_active_client_only(app):
    account_id = account(app, "pro")
    first, second, gone = new_client(app, account_id), new_client(app, account_id), new_client(app, account_id)
    app.deactivate_client(account_id, gone)
    invoice_id = app.create_invoice(account_id, draft(first))
    with pytest.raises(ValidationError):
        app.update_invoice(account_id, invoice_id, {"client_id": gone})
    app.update_invoice(account_id, invoice_id, {"client_id": second})
    assert app.get_invoice(account_id, invoice_id).client_id == second


def test_invoice_of_a_deactivated_client_stays_and_can_still_be_edited(app):
    account_id = account(app, "pro")
    client_id = new_client(app, account_id)
    invoice_id = app.create_invoice(account_id, draft(client_id))
    app.deactivate_client(account_id, client_id)
    app.update_invoice(account_id, invoice_id, {"notes": "Still here"})
    assert app.get_invoice(account_id, invoice_id).notes == "Still here"


def test_changing_lines_or_currency_reprices_the_invoice(app):
    account_id = account(app, "pro")
    invoice_id = app.create_invoice(account_id, draft(new_client(app, account_id)))
    lines = [LineItemDraft("Web Development", Decimal(50), Decimal("125.00"), Decimal(10))]
    app.update_invoice(account_id, invoice_id, {"line_items": lines})
    assert str(app.get_invoice(account_id, invoice_id).total) == "6875.00"
    app.update_invoice(account_id, invoice_id, {"currency": "kwd"})
    invoice = app.get_invoice(account_id, invoice_id)
    assert (invoice.currency, str(invoice.total), str(invoice.line_items[0].amount)) == ("KWD", "6875.000", "6250.000")
    app.update_invoice(account_id, invoice_id, {"currency": "JPY"})
    assert str(app.get_invoice(account_id, invoice_id).total) == "6875"


def test_update_keeps_the_fields_not_given(app):
    account_id = account(app, "pro")
    invoice_id = app.create_invoice(
        account_id, draft(new_client(app, account_id), "INV-0042", notes="Thanks", terms="Net 30")
    )
    app.update_invoice(account_id, invoice_id, {"due_date": date(2024, 8, 1)})
    invoice = app.get_invoice(account_id, invoice_id)
    assert (invoice.number, invoice.notes, invoice.terms, str(invoice.total)) == (
        "INV-0042",
        "Thanks",
        "Net 30",
        "5500.00",
    )
    assert invoice.due_date == date(2024, 8, 1)


def test_update_moving_due_date_before_issue_date_is_refused(app):
    account_id = account(app, "pro")
    invoice_id = app.create_invoice(account_id, draft(new_client(app, account_id)))
    with pytest.raises(ValidationError):
        app.update_invoice(account_id, invoice_id, {"due_date": date(2024, 6, 14)})
    with pytest.raises(ValidationError):
        app.update_invoice(account_id, invoice_id, {"issue_date": date(2024, 7, 16)})


def test_only_a_draft_can_be_changed(app):
    account_id = account(app, "pro")
    invoice_id = app.create_invoice(account_id, draft(new_client(app, account_id)))
    app.send_invoice(account_id, invoice_id, Sending())
    with pytest.raises(Conflict, match="Cannot change a SENT invoice"):
        app.update_invoice(account_id, invoice_id, {"notes": "Too late"})


def test_deleted_invoice_is_gone_for_commands_but_stays_in_the_ledger(app):
    account_id = account(app, "pro")
    invoice_id = app.create_invoice(account_id, draft(new_client(app, account_id), "INV-0042"))
    app.delete_invoice(account_id, invoice_id)
    with pytest.raises(NotFound):
        app.get_invoice(account_id, invoice_id)
    with pytest.raises(NotFound):
        app.update_invoice(account_id, invoice_id, {"notes": "x"})
    with pytest.raises(NotFound):
        app.delete_invoice(account_id, invoice_id)
    first_version = app.repository.get(invoice_id, version=1)
    assert (first_version.number, str(first_version.total)) == ("INV-0042", "5500.00")


def test_another_accounts_invoice_is_not_found(app):
    owner, other = account(app, "pro"), account(app, "pro")
    invoice_id = app.create_invoice(owner, draft(new_client(app, owner)))
    for command in (
        lambda: app.get_invoice(other, invoice_id),
        lambda: app.update_invoice(other, invoice_id, {"notes": "x"}),
        lambda: app.delete_invoice(other, invoice_id),
    ):
        with pytest.raises(NotFound):
            command()
    assert app.get_invoice(owner, invoice_id).notes is None


# --- racing commands ---------------------------------------------------------------


def test_racing_creates_for_the_last_client_slot_let_exactly_one_in(services):
    app = services.app
    account_id = account(app, "free")
    for i in range(4):
        new_client(app, account_id, f"Client {i}")
    results = race(lambda i: services.execute(lambda: new_client(app, account_id, f"Racer {i}")))
    assert sum(isinstance(result, UUID) for result in results) == 1
    assert sum(isinstance(result, PlanLimitReached) for result in results) == RACERS - 1
    assert services.read.clients(str(account_id), 1, 100).total == 5


def test_racing_reactivations_for_the_last_client_slot_let_exactly_one_in(services):
    app = services.app
    account_id = account(app, "free")
    clients = [new_client(app, account_id, f"Client {i}") for i in range(5)]
    dormant = [clients[0], clients[4]]
    for client_id in dormant:
        app.deactivate_client(account_id, client_id)
    new_client(app, account_id, "Fourth active")
    results = race(lambda i: app.update_client(account_id, dormant[i], {"is_active": True}), racers=2)
    assert sum(isinstance(result, int) for result in results) == 1
    assert sum(isinstance(result, PlanLimitReached) for result in results) == 1
    assert sum(app.get_client(account_id, client_id).is_active for client_id in dormant) == 1


def test_racing_creates_for_the_last_invoice_slot_of_the_month_let_exactly_one_in(services):
    app = services.app
    account_id = account(app, "free")
    client_id = new_client(app, account_id)
    for _ in range(19):
        app.create_invoice(account_id, draft(client_id))
    results = race(lambda i: services.execute(lambda: app.create_invoice(account_id, draft(client_id))))
    assert sum(isinstance(result, UUID) for result in results) == 1
    assert sum(isinstance(result, PlanLimitReached) for result in results) == RACERS - 1
    assert services.read.invoices(str(account_id), 1, 100).total == 20


def test_racing_creates_with_the_same_number_let_exactly_one_in(services):
    app = services.app
    account_id = account(app, "pro")
    client_id = new_client(app, account_id)
    numbers = ["INV-0042" if i % 2 else "inv-0042" for i in range(RACERS)]
    results = race(lambda i: services.execute(lambda: app.create_invoice(account_id, draft(client_id, numbers[i]))))
    assert sum(isinstance(result, UUID) for result in results) == 1
    assert sum(isinstance(result, Conflict) for result in results) == RACERS - 1
    assert services.read.invoices(str(account_id), 1, 100).total == 1


def test_racing_auto_numbered_creates_get_distinct_consecutive_numbers(services):
    app = services.app
    account_id = account(app, "pro")
    client_id = new_client(app, account_id)
    results = race(lambda i: services.execute(lambda: app.create_invoice(account_id, draft(client_id))))
    assert all(isinstance(result, UUID) for result in results), results
    numbers = sorted(number_of(app, account_id, invoice_id) for invoice_id in results)
    assert numbers == [f"INV-{n:04d}" for n in range(1, RACERS + 1)]
    listed = services.read.invoices(str(account_id), 1, 100).items
    assert sorted(item.invoice_number for item in listed) == numbers


def test_racing_renumbers_to_the_same_number_let_exactly_one_in(services):
    app = services.app
    account_id = account(app, "pro")
    client_id = new_client(app, account_id)
    invoices = [app.create_invoice(account_id, draft(client_id)) for _ in range(RACERS)]
    results = race(lambda i: app.update_invoice(account_id, invoices[i], {"invoice_number": "WANTED"}))
    assert sum(result is None for result in results) == 1
    assert sum(isinstance(result, Conflict) for result in results) == RACERS - 1
    assert [number_of(app, account_id, invoice_id) for invoice_id in invoices].count("WANTED") == 1


def test_two_applications_on_one_data_dir_share_the_limits(settings: Settings, clock: FakeClock):
    # Two processes' worth of application, each with its own connections to the same files.
    first = Services(settings, clock=clock)
    second = Services(settings, clock=clock)
    try:
        account_id = account(first.app, "free")
        for i in range(4):
            new_client(first.app, account_id, f"Client {i}")
        apps = [first.app, second.app] * (RACERS // 2)
        results = race(lambda i: new_client(apps[i], account_id, f"Racer {i}"))
        assert sum(isinstance(result, UUID) for result in results) == 1
    finally:
        first.close()
        second.close()


def test_racing_processes_numbering_and_counting_one_accounts_invoices_stay_exact(settings: Settings, clock: FakeClock):
    """No lock is shared between applications: every racer but one fails on the quota's or
    the numbering's version, reloads and tries again, and the numbers still come out
    consecutive and the plan's limit exact."""
    apps = [Services(settings, clock=clock) for _ in range(4)]
    try:
        first = apps[0].app
        account_id = account(first, "free")
        client_id = new_client(first, account_id)
        for _ in range(20 - RACERS // 2):
            first.create_invoice(account_id, draft(client_id))
        results = race(lambda i: apps[i % 4].app.create_invoice(account_id, draft(client_id)))
        created = [result for result in results if isinstance(result, UUID)]
        assert len(created) == RACERS // 2
        assert sum(isinstance(result, PlanLimitReached) for result in results) == RACERS - RACERS // 2
        numbers = sorted(number_of(first, account_id, invoice_id) for invoice_id in created)
        assert numbers == [f"INV-{n:04d}" for n in range(21 - RACERS // 2, 21)]
    finally:
        for services in apps:
            services.close()


def test_racing_first_owners_let_exactly_one_in(settings: Settings, clock: FakeClock):
    """Two first-run links used at once, by two processes: one owner is added, the other
    finds the account owned (the account's version decides, no lock of ours)."""
    apps = [Services(settings, clock=clock) for _ in range(2)]
    try:
        account_id = account(apps[0].app, "free")
        results = race(lambda i: apps[i % 2].app.add_owner(account_id, f"owner{i}@shop.test", first=True))
        assert sum(isinstance(result, UUID) for result in results) == 1
        assert all(isinstance(result, NotFound) for result in results if not isinstance(result, UUID))
        assert len(apps[0].app.get_account(account_id).owners) == 1
    finally:
        for services in apps:
            services.close()
