"""An invoice's life through the application's commands: the transition table, payments,
reversals, overdue, void and delete, discounts and tax. Real Services on real SQLite, with
the FakeClock deciding what today is."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain import lifecycle
from domain.errors import Conflict, DomainError, NotFound, ValidationError
from domain.lifecycle import DRAFT, OVERDUE, PAID, PARTIALLY_PAID, SENT, STATUSES, VIEWED, VOID, Facts, derive_status
from domain.money import LineItemDraft, TaxRateTotal, check_line, check_payment_amount, price_lines, tax_breakdown
from gateway.services import Services
from tests.conftest import TODAY, FakeClock, stored_state
from tests.lifecycle_support import PAST_DUE, TOTAL, Books, web_line

ACTIONS = {
    "EDIT": lifecycle.EDIT,
    "DELETE": lifecycle.DELETE,
    "SEND": lifecycle.SEND,
    "VIEW": lifecycle.VIEW,
    "RECORD_PAYMENT": lifecycle.RECORD_PAYMENT,
    "REVERSE_PAYMENT": lifecycle.REVERSE_PAYMENT,
    "VOID_INVOICE": lifecycle.VOID_INVOICE,
    "MARK_OVERDUE": lifecycle.MARK_OVERDUE,
}


@pytest.fixture
def books(services: Services, clock: FakeClock) -> Books:
    return Books.open(services, clock)


def article(status: str) -> str:
    return "an" if status[0] in "AEIOU" else "a"


# --- the table itself -------------------------------------------------------------------


def test_every_action_names_only_real_statuses():
    for action in ACTIONS.values():
        assert action.allowed <= set(STATUSES)
    assert {SENT, VIEWED, PARTIALLY_PAID, OVERDUE} == lifecycle.ISSUED


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("name", list(ACTIONS))
def test_check_allows_the_table_and_refuses_the_rest_naming_status_and_action(name, status):
    action = ACTIONS[name]
    if status in action.allowed:
        lifecycle.check(action, status)
        return
    with pytest.raises(Conflict) as refused:
        lifecycle.check(action, status)
    message = refused.value.message
    assert message.startswith(f"Cannot {action.verb} {article(status)} {status} invoice; "), message
    assert len(message.split("; ", 1)[1]) > 5  # and says what to do instead


def test_refusal_messages_say_what_to_do_instead():
    def refusal(action: lifecycle.Action, status: str) -> str:
        with pytest.raises(Conflict) as refused:
            lifecycle.check(action, status)
        return refused.value.message

    assert refusal(lifecycle.RECORD_PAYMENT, DRAFT) == "Cannot record a payment on a DRAFT invoice; send it first"
    assert refusal(lifecycle.VOID_INVOICE, DRAFT).endswith("a draft is deleted, not voided")
    assert refusal(lifecycle.DELETE, SENT).endswith("void it instead")
    assert "void it instead" not in refusal(lifecycle.DELETE, PAID)
    assert refusal(lifecycle.EDIT, OVERDUE) == "Cannot change an OVERDUE invoice; only DRAFT invoices can be changed"
    assert refusal(lifecycle.RECORD_PAYMENT, PAID).endswith("it is paid in full")
    assert refusal(lifecycle.SEND, VOID).endswith("it is void")


# Every way the facts can combine, against the order the contract gives.
@pytest.mark.parametrize("voided", [False, True])
@pytest.mark.parametrize("sent", [False, True])
@pytest.mark.parametrize("overdue", [False, True])
@pytest.mark.parametrize("viewed", [False, True])
@pytest.mark.parametrize("paid", ["0.00", "1.00", "5500.00"])
def test_status_is_derived_from_the_facts_in_the_contracts_order(voided, sent, overdue, viewed, paid):
    at = datetime(2024, 6, 1, tzinfo=UTC)
    facts = Facts(
        sent_at=at if sent else None,
        viewed_at=at if viewed and sent else None,
        overdue_at=at if overdue and sent else None,
        voided_at=at if voided and sent else None,
        amount_paid=Decimal(paid) if sent else Decimal("0.00"),
        total=TOTAL,
    )
    expected = (
        VOID
        if facts.voided_at
        else DRAFT
        if not sent
        else PAID
        if facts.amount_paid == TOTAL
        else OVERDUE
        if facts.overdue_at
        else PARTIALLY_PAID
        if facts.amount_paid > 0
        else VIEWED
        if facts.viewed_at
        else SENT
    )
    assert derive_status(facts) == expected


# --- the table through the commands -----------------------------------------------------


def _view(books: Books, invoice_id: UUID, _payment: UUID | None) -> None:
    invoice = books.invoice(invoice_id)
    invoice.view(books.clock())
    books.app.save(invoice)
    books.services.projector.catch_up()


def _mark_overdue(books: Books, invoice_id: UUID, _payment: UUID | None) -> None:
    invoice = books.invoice(invoice_id)
    invoice.mark_overdue(books.clock())
    books.app.save(invoice)
    books.services.projector.catch_up()


def _reverse(books: Books, invoice_id: UUID, payment: UUID | None) -> None:
    assert payment is not None
    books.reverse(invoice_id, payment)


COMMANDS: dict[str, Callable[[Books, UUID, UUID | None], Any]] = {
    "EDIT": lambda b, i, _: b.run(lambda: b.app.update_invoice(b.account, i, {"notes": "Changed"})),
    "DELETE": lambda b, i, _: b.run(lambda: b.app.delete_invoice(b.account, i)),
    "SEND": lambda b, i, _: b.send(i),
    "VIEW": _view,
    "RECORD_PAYMENT": lambda b, i, _: b.pay(i, "1.00"),
    "REVERSE_PAYMENT": _reverse,
    "VOID_INVOICE": lambda b, i, _: b.void(i),
    "MARK_OVERDUE": _mark_overdue,
}


def after(name: str, status: str, reversed_to: str = SENT) -> str | None:
    """The status an allowed action leads to (None: the invoice is gone)."""
    if name == "DELETE":
        return None
    if name == "SEND":
        return SENT if status == DRAFT else status
    if name == "VIEW":
        return VIEWED if status == SENT else status
    if name == "RECORD_PAYMENT":
        return OVERDUE if status == OVERDUE else PARTIALLY_PAID
    if name == "REVERSE_PAYMENT":
        return OVERDUE if status == OVERDUE else reversed_to
    if name == "VOID_INVOICE":
        return VOID
    if name == "MARK_OVERDUE":
        return OVERDUE
    return status


def reachable() -> list[Any]:
    """(action, status, with a live payment) for every pair a user can reach."""
    cases = []
    for name in ACTIONS:
        for status in STATUSES:
            if name == "REVERSE_PAYMENT":
                if status in (DRAFT, SENT, VIEWED):
                    continue  # a live payment cannot exist there: see the next test
                cases.append(pytest.param(name, status, True, id=f"{name}-{status}"))
            else:
                cases.append(pytest.param(name, status, False, id=f"{name}-{status}"))
    return cases


@pytest.mark.parametrize(("name", "status", "with_payment"), reachable())
def test_each_command_does_what_the_table_allows_and_refuses_the_rest(books: Books, name, status, with_payment):
    invoice_id, payment = books.in_status(status, with_payment=with_payment)
    action = ACTIONS[name]
    if status in action.allowed:
        COMMANDS[name](books, invoice_id, payment)
        expected = after(name, status)
        if expected is None:
            with pytest.raises(NotFound):
                books.invoice(invoice_id)
            assert books.services.read.invoice(str(books.account), str(invoice_id)) is None
        else:
            assert books.status(invoice_id) == expected
        return
    before = stored_state(books.services)
    with pytest.raises(Conflict) as refused:
        COMMANDS[name](books, invoice_id, payment)
    assert refused.value.message.startswith(f"Cannot {action.verb} {article(status)} {status} invoice; ")
    assert stored_state(books.services) == before


@pytest.mark.parametrize("status", [DRAFT, SENT, VIEWED])
def test_reversing_a_payment_the_invoice_does_not_have_is_404(books: Books, status):
    invoice_id, _ = books.in_status(status)
    with pytest.raises(NotFound, match="Payment not found"):
        books.reverse(invoice_id, uuid4())


def test_a_payment_of_another_invoice_cannot_be_reversed_through_this_one(books: Books):
    first, payment = books.in_status(PARTIALLY_PAID, with_payment=True)
    second, _ = books.in_status(PARTIALLY_PAID, with_payment=True)
    with pytest.raises(NotFound):
        books.reverse(second, payment)  # type: ignore[arg-type]
    assert books.status(first) == PARTIALLY_PAID


def test_the_commands_that_a_sweep_or_a_link_run_answer_false_instead_of_refusing(books: Books):
    for status in STATUSES:
        invoice_id, _ = books.in_status(status)
        before = books.events()
        if status not in lifecycle.MARK_OVERDUE.allowed:
            assert books.mark_overdue(invoice_id) is False
        if status in (DRAFT, VIEWED):
            assert books.view(invoice_id) is False
        assert books.events() == before


def test_mark_overdue_before_the_due_date_is_refused_by_the_aggregate(books: Books):
    invoice_id, _ = books.in_status(SENT, past_due=False)
    invoice = books.invoice(invoice_id)
    with pytest.raises(ValidationError, match="not past its due date"):
        invoice.mark_overdue(books.clock())


# --- sending ----------------------------------------------------------------------------


def test_send_issues_a_draft_with_sent_at_and_a_share_token(books: Books):
    invoice_id = books.draft()
    assert books.status(invoice_id) == DRAFT and books.row(invoice_id).share_token is None
    books.send(invoice_id)
    row = books.row(invoice_id)
    assert row.status == SENT and row.sent_at == TODAY.replace(tzinfo=None)
    assert row.share_token is not None and len(row.share_token) >= 22  # >= 128 bits of base64url
    assert set(row.share_token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert not row.sent_via_email and row.email_status is None


@pytest.mark.parametrize("status", sorted(lifecycle.ISSUED))
def test_a_resend_keeps_status_sent_at_and_share_token(books: Books, clock: FakeClock, status):
    invoice_id, _ = books.in_status(status)
    first = books.row(invoice_id)
    clock.advance(days=3)
    books.send(invoice_id)
    again = books.row(invoice_id)
    assert again.status == status
    assert (again.sent_at, again.share_token) == (first.sent_at, first.share_token)
    assert books.invoice(invoice_id).sends == 2


def test_share_tokens_differ_between_invoices(books: Books):
    tokens = set()
    for _ in range(5):
        invoice_id = books.draft()
        books.send(invoice_id)
        tokens.add(books.row(invoice_id).share_token)
    assert len(tokens) == 5


def test_the_first_view_is_recorded_once_even_when_opened_at_the_same_time(books: Books):
    invoice_id, _ = books.in_status(SENT)
    start = threading.Barrier(6)

    def open_link(_: int) -> bool:
        start.wait()
        return books.view(invoice_id)

    with ThreadPoolExecutor(6) as pool:
        recorded = list(pool.map(open_link, range(6)))
    assert recorded.count(True) == 1
    assert books.status(invoice_id) == VIEWED
    assert books.row(invoice_id).viewed_at == TODAY.replace(tzinfo=None)


# --- payments ---------------------------------------------------------------------------


def test_payment_on_a_draft_is_409_send_it_first(books: Books):
    invoice_id = books.draft()
    with pytest.raises(Conflict, match="^Cannot record a payment on a DRAFT invoice; send it first$"):
        books.pay(invoice_id, "10.00")


@pytest.mark.parametrize("amount", ["5500.01", "10000", "1E+30"])
def test_overpayment_is_400_naming_the_balance(books: Books, amount):
    invoice_id, _ = books.in_status(SENT)
    before = stored_state(books.services)
    with pytest.raises(ValidationError, match=r"at most the balance due \(5500.00 USD\)"):
        books.pay(invoice_id, amount)
    assert stored_state(books.services) == before


def test_the_balance_after_a_partial_payment_bounds_the_next_one(books: Books):
    invoice_id, _ = books.in_status(PARTIALLY_PAID)  # 1000.00 paid
    with pytest.raises(ValidationError, match="4500.00 USD"):
        books.pay(invoice_id, "4500.01")


@pytest.mark.parametrize("amount", ["0", "0.00", "-1.00", "-0"])
def test_payment_must_be_more_than_zero(books: Books, amount):
    invoice_id, _ = books.in_status(SENT)
    with pytest.raises(ValidationError, match="greater than 0"):
        books.pay(invoice_id, amount)


@pytest.mark.parametrize(
    ("currency", "amount"),
    [("USD", "10.001"), ("USD", "0.005"), ("JPY", "10.5"), ("KWD", "1.0005"), ("EUR", "1E-9")],
)
def test_more_decimals_than_the_currency_has_is_400(books: Books, currency, amount):
    invoice_id = books.draft(currency=currency)
    books.send(invoice_id)
    with pytest.raises(ValidationError, match=f"decimal places in {currency}"):
        books.pay(invoice_id, amount)


@pytest.mark.parametrize(
    ("currency", "amount", "stored"),
    [
        ("JPY", "100", "100"),
        ("JPY", "100.0", "100"),
        ("KWD", "1.234", "1.234"),
        ("USD", "12.5", "12.50"),
        ("USD", "12.500", "12.50"),
        ("USD", "1E+2", "100.00"),
    ],
)
def test_amounts_within_the_currencys_minor_unit_are_stored_at_its_scale(books: Books, currency, amount, stored):
    """Trailing zeros are no extra precision: 100.0 yen is a hundred yen (API.md lets clients send 5500.0)."""
    invoice_id = books.draft(currency=currency)
    books.send(invoice_id)
    payment_id = books.pay(invoice_id, amount)
    [row] = books.services.read.payments(str(books.account), str(invoice_id)) or []
    assert row.id == str(payment_id) and str(row.amount) == stored


def test_partial_then_full_payment(books: Books, clock: FakeClock):
    invoice_id, _ = books.in_status(SENT)
    books.pay(invoice_id, "1500.00", paid_on=date(2024, 6, 10), method="bank transfer", reference="TX-1")
    row = books.row(invoice_id)
    assert (row.status, str(row.amount_paid), str(row.balance_due), row.paid_at) == (
        PARTIALLY_PAID,
        "1500.00",
        "4000.00",
        None,
    )
    clock.advance(days=2)
    books.pay(invoice_id, "4000.00")
    row = books.row(invoice_id)
    assert (row.status, str(row.amount_paid), str(row.balance_due)) == (PAID, "5500.00", "0.00")
    assert row.paid_at == clock.now.replace(tzinfo=None) == books.invoice(invoice_id).paid_at.replace(tzinfo=None)
    payments = books.services.read.payments(str(books.account), str(invoice_id)) or []
    assert [(str(p.amount), p.paid_on, p.method, p.reference) for p in payments] == [
        ("1500.00", date(2024, 6, 10), "bank transfer", "TX-1"),
        ("4000.00", date(2024, 6, 17), None, None),  # the date defaults to today
    ]


def test_racing_payments_never_pay_more_than_the_total(books: Books):
    invoice_id, _ = books.in_status(SENT)
    start = threading.Barrier(8)

    def pay(_: int) -> Any:
        start.wait()
        try:
            return books.pay(invoice_id, "1000.00")
        except DomainError as error:
            return error

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(pay, range(8)))
    assert sum(isinstance(r, UUID) for r in results) == 5
    assert all(isinstance(r, ValidationError) for r in results if not isinstance(r, UUID))
    row = books.row(invoice_id)
    assert (row.status, str(row.amount_paid), str(row.balance_due)) == (PARTIALLY_PAID, "5000.00", "500.00")


@pytest.mark.parametrize("field", ["method", "reference"])
def test_payment_method_and_reference_are_bounded(books: Books, field):
    invoice_id, _ = books.in_status(SENT)
    with pytest.raises(ValidationError, match=field):
        books.pay(invoice_id, "1.00", **{field: "x" * 256})


# --- reversals --------------------------------------------------------------------------


def test_reversal_reopens_a_paid_invoice_as_the_facts_say(books: Books, clock: FakeClock):
    # one payment of two reversed: still partly paid
    invoice_id, _ = books.in_status(SENT)
    first = books.pay(invoice_id, "5000.00")
    books.pay(invoice_id, "500.00")
    assert books.status(invoice_id) == PAID
    books.reverse(invoice_id, first)
    row = books.row(invoice_id)
    assert (row.status, str(row.amount_paid), str(row.balance_due), row.paid_at) == (
        PARTIALLY_PAID,
        "500.00",
        "5000.00",
        None,
    )
    assert books.invoice(invoice_id).paid_at is None

    # the only payment reversed: back to SENT, or VIEWED if it was opened
    for viewed, expected in ((False, SENT), (True, VIEWED)):
        invoice_id, payment = books.in_status(PAID, with_payment=True)
        if viewed:
            books.view(invoice_id)
        books.reverse(invoice_id, payment)  # type: ignore[arg-type]
        assert books.status(invoice_id) == expected

    # paid after it was marked overdue: a reversal makes it OVERDUE again
    invoice_id, _ = books.in_status(OVERDUE)
    payment = books.pay(invoice_id, TOTAL)
    assert books.status(invoice_id) == PAID
    books.reverse(invoice_id, payment)
    assert books.status(invoice_id) == OVERDUE


def test_a_reversed_payment_stays_on_record_and_cannot_be_reversed_twice(books: Books, clock: FakeClock):
    invoice_id, payment = books.in_status(PARTIALLY_PAID, with_payment=True)
    clock.advance(hours=1)
    books.reverse(invoice_id, payment)  # type: ignore[arg-type]
    [row] = books.services.read.payments(str(books.account), str(invoice_id)) or []
    assert row.id == str(payment) and str(row.amount) == "1000.00"
    assert row.reversed_at == clock.now.replace(tzinfo=None)
    before = stored_state(books.services)
    with pytest.raises(Conflict) as refused:
        books.reverse(invoice_id, payment)  # type: ignore[arg-type]
    assert refused.value.message.startswith("Cannot reverse a payment on a SENT invoice; ")
    assert "already reversed" in refused.value.message
    assert stored_state(books.services) == before


def test_after_a_reversal_the_balance_can_be_paid_again(books: Books):
    invoice_id, payment = books.in_status(PAID, with_payment=True)
    books.reverse(invoice_id, payment)  # type: ignore[arg-type]
    books.pay(invoice_id, TOTAL)
    row = books.row(invoice_id)
    assert (row.status, str(row.amount_paid)) == (PAID, "5500.00") and row.paid_at is not None


# --- overdue ----------------------------------------------------------------------------


def test_overdue_only_after_the_due_date(books: Books, clock: FakeClock, services: Services):
    invoice_id = books.draft()  # due 30 days after 2024-06-15
    books.send(invoice_id)
    due = books.row(invoice_id).due_date
    assert due == date(2024, 7, 15)
    sweep = services.overdue_sweep()
    clock.now = datetime(2024, 7, 15, 23, 59, tzinfo=UTC)
    assert sweep.sweep() == 0 and books.status(invoice_id) == SENT
    clock.now = datetime(2024, 7, 16, 0, 0, tzinfo=UTC)
    assert sweep.sweep() == 1
    row = books.row(invoice_id)
    assert (row.status, row.overdue_at) == (OVERDUE, datetime(2024, 7, 16, 0, 0))
    assert sweep.sweep() == 0  # nothing to do the second time
    assert books.mark_overdue(invoice_id) is False


def test_the_sweep_marks_issued_invoices_only(books: Books, clock: FakeClock, services: Services):
    marked = {}
    for status in STATUSES:
        if status != OVERDUE:
            marked[status] = books.in_status(status)[0]
    also_viewed_and_partly_paid = books.in_status(VIEWED)[0]
    books.pay(also_viewed_and_partly_paid, "1.00")
    assert services.overdue_sweep().sweep() == 4  # SENT, VIEWED, PARTIALLY_PAID and the last one
    assert {status: books.status(i) for status, i in marked.items()} == {
        DRAFT: DRAFT,
        SENT: OVERDUE,
        VIEWED: OVERDUE,
        PARTIALLY_PAID: OVERDUE,
        PAID: PAID,
        VOID: VOID,
    }
    assert books.status(also_viewed_and_partly_paid) == OVERDUE


def test_a_partial_payment_on_an_overdue_invoice_keeps_it_overdue(books: Books):
    invoice_id, _ = books.in_status(OVERDUE)
    books.pay(invoice_id, "100.00")
    row = books.row(invoice_id)
    assert (row.status, str(row.balance_due)) == (OVERDUE, "5400.00")
    books.pay(invoice_id, "5400.00")
    assert books.status(invoice_id) == PAID


def test_a_draft_past_its_due_date_becomes_overdue_only_once_sent(books: Books, services: Services):
    invoice_id = books.draft(past_due=True)
    assert services.overdue_sweep().sweep() == 0
    books.send(invoice_id)
    assert books.status(invoice_id) == SENT
    assert services.overdue_sweep().sweep() == 1
    assert books.status(invoice_id) == OVERDUE


def test_the_sweep_goes_through_more_than_one_batch(books: Books, services: Services, monkeypatch):
    monkeypatch.setattr("usecases.lifecycle.BATCH", 2)
    invoices = [books.in_status(SENT)[0] for _ in range(5)]
    assert services.overdue_sweep().sweep() == 5
    assert {books.status(i) for i in invoices} == {OVERDUE}


def test_the_sweeps_run_once_waits_its_interval(books: Books, services: Services):
    sweep = services.overdue_sweep()
    first = books.in_status(SENT)[0]
    assert sweep.run_once() == 1
    books.in_status(SENT)
    assert sweep.run_once() == 0  # every 300 s by default; the next one waits
    assert books.status(first) == OVERDUE


# --- void and delete --------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(lifecycle.ISSUED))
def test_void_an_issued_invoice_with_a_reason(books: Books, clock: FakeClock, status):
    invoice_id, _ = books.in_status(status)
    clock.advance(minutes=5)
    books.void(invoice_id, "  Wrong client  ")
    row = books.row(invoice_id)
    assert (row.status, row.void_reason, row.voided_at) == (VOID, "Wrong client", clock.now.replace(tzinfo=None))


def test_a_voided_invoice_accepts_nothing_more(books: Books):
    invoice_id, payment = books.in_status(VOID, with_payment=True)
    before = stored_state(books.services)
    refusals = [
        lambda: books.pay(invoice_id, "1.00"),
        lambda: books.reverse(invoice_id, payment),
        lambda: books.send(invoice_id),
        lambda: books.void(invoice_id),
        lambda: books.run(lambda: books.app.update_invoice(books.account, invoice_id, {"notes": "x"})),
        lambda: books.run(lambda: books.app.delete_invoice(books.account, invoice_id)),
    ]
    for refusal in refusals:
        with pytest.raises(Conflict, match="a VOID invoice"):
            refusal()
    assert books.mark_overdue(invoice_id) is False
    assert stored_state(books.services) == before


def test_void_reason_is_bounded(books: Books):
    invoice_id, _ = books.in_status(SENT)
    with pytest.raises(ValidationError, match="reason"):
        books.void(invoice_id, "x" * 5001)


def test_only_a_draft_is_deleted_and_its_number_freed(books: Books):
    invoice_id = books.draft(invoice_number="INV-0100")
    books.run(lambda: books.app.delete_invoice(books.account, invoice_id))
    with pytest.raises(NotFound):
        books.invoice(invoice_id)
    assert books.draft(invoice_number="INV-0100")


@pytest.mark.parametrize("status", [s for s in STATUSES if s != DRAFT])
def test_an_issued_invoice_is_never_deleted(books: Books, status):
    invoice_id, _ = books.in_status(status)
    with pytest.raises(Conflict) as refused:
        books.run(lambda: books.app.delete_invoice(books.account, invoice_id))
    message = refused.value.message
    assert message.startswith(f"Cannot delete {article(status)} {status} invoice; issued invoices stay in the books")
    assert message.endswith("void it instead") == (status in lifecycle.VOID_INVOICE.allowed)


# --- zero totals ------------------------------------------------------------------------


def test_a_sent_invoice_with_nothing_to_pay_is_paid_when_sent(books: Books, clock: FakeClock):
    invoice_id = books.draft(web_line(discount="100"))
    assert str(books.row(invoice_id).total) == "0.00"
    clock.advance(hours=2)
    books.send(invoice_id)
    row = books.row(invoice_id)
    assert (row.status, str(row.balance_due)) == (PAID, "0.00")
    assert row.paid_at == clock.now.replace(tzinfo=None) == books.invoice(invoice_id).paid_at.replace(tzinfo=None)
    assert books.services.overdue_sweep().sweep() == 0


# --- discounts and tax ------------------------------------------------------------------


def test_the_worked_example_of_the_contract(books: Books):
    invoice_id = books.draft(web_line(discount="10"))
    row = books.row(invoice_id)
    assert [str(v) for v in (row.subtotal, row.discount_total, row.tax_total, row.total)] == [
        "5000.00",
        "500.00",
        "450.00",
        "4950.00",
    ]
    [line] = row.line_items
    assert (str(line.amount), str(line.discount_rate), str(line.discount)) == ("5000.00", "10", "500.00")
    books.send(invoice_id)
    books.pay(invoice_id, "4950.00")
    assert books.status(invoice_id) == PAID


def test_discount_is_rounded_per_line_and_tax_is_on_what_remains():
    lines, totals = price_lines(
        [
            check_line(LineItemDraft("a", Decimal("1"), Decimal("0.05"), Decimal("0"), Decimal("10")), "l"),  # 0.005
            check_line(LineItemDraft("b", Decimal("3"), Decimal("33.33"), Decimal("20"), Decimal("12.5")), "l"),
        ],
        "USD",
    )
    assert [(str(x.amount), str(x.discount), str(x.taxable)) for x in lines] == [
        ("0.05", "0.01", "0.04"),
        ("99.99", "12.50", "87.49"),
    ]
    # tax: 87.49 x 20 % = 17.498 -> 17.50
    assert [str(v) for v in (totals.subtotal, totals.discount_total, totals.tax_total, totals.total)] == [
        "100.04",
        "12.51",
        "17.50",
        "105.03",
    ]


@pytest.mark.parametrize(
    ("currency", "price", "expected"),
    [("JPY", "999", ("39960", "3996", "3596", "39560")), ("KWD", "1.111", ("44.440", "4.444", "4.000", "43.996"))],
)
def test_discounts_in_currencies_without_two_decimals(currency, price, expected):
    lines, totals = price_lines([check_line(web_line(price, discount="10"), "l")], currency)
    assert tuple(str(v) for v in (totals.subtotal, totals.discount_total, totals.tax_total, totals.total)) == expected


@pytest.mark.parametrize("rate", ["100", "0", "33.3333"])
def test_discount_rates_from_0_to_100_are_accepted(rate):
    [line], totals = price_lines([check_line(web_line(discount=rate), "l")], "USD")
    assert totals.total == totals.subtotal - totals.discount_total + totals.tax_total
    assert Decimal(0) <= line.discount <= line.amount


@pytest.mark.parametrize("rate", ["-0.01", "100.01", "10.00001"])
def test_discount_rates_outside_0_to_100_or_too_precise_are_refused(rate):
    with pytest.raises(ValidationError, match=r"line_items\[0\]\.discount_rate"):
        check_line(web_line(discount=rate), "line_items[0]")


def test_a_discount_changed_on_a_draft_reprices_it(books: Books):
    invoice_id = books.draft()
    lines = [web_line(discount="10")]
    books.run(lambda: books.app.update_invoice(books.account, invoice_id, {"line_items": lines}))
    assert str(books.row(invoice_id).total) == "4950.00"


def test_tax_breakdown_groups_by_rate_lowest_first_on_the_discounted_base():
    lines, totals = price_lines(
        [
            check_line(web_line("100.00", discount="10", tax="21", quantity="1"), "l"),  # base 90.00
            check_line(web_line("50.00", tax="0", quantity="2"), "l"),  # base 100.00 at 0 %
            check_line(web_line("10.00", tax="21.00", quantity="1"), "l"),  # 21 and 21.00 are one rate
            check_line(web_line("40.00", tax="10", quantity="1"), "l"),
        ],
        "EUR",
    )
    breakdown = tax_breakdown(lines, "EUR")
    assert breakdown == [
        TaxRateTotal(Decimal(0), Decimal("100.00"), Decimal("0.00")),
        TaxRateTotal(Decimal(10), Decimal("40.00"), Decimal("4.00")),
        TaxRateTotal(Decimal(21), Decimal("100.00"), Decimal("21.00")),
    ]
    assert [str(row.rate) for row in breakdown] == ["0", "10", "21"]  # never 1E+1
    assert sum(row.tax for row in breakdown) == totals.tax_total
    assert sum(row.base for row in breakdown) == totals.subtotal - totals.discount_total


@pytest.mark.parametrize(
    "rates",
    [["10", "30"], ["5", "15", "25"], ["7", "7.5", "19", "21", "0"], ["12.3456", "8.7654"]],
)
@pytest.mark.parametrize("currency", ["USD", "JPY", "KWD"])
def test_tax_breakdown_adds_up_to_the_invoices_tax_total(rates, currency):
    """Each rate's tax rounded alone may not add up (0.005 + 0.015 -> 0.01 + 0.02 = 0.03 vs 0.02):
    the rows a reader adds must still give the tax total printed below them."""
    for price in ("0.05", "0.15", "1.05", "3.33", "7"):
        drafts = [check_line(web_line(price, tax=rate, quantity="1"), "l") for rate in rates]
        lines, totals = price_lines(drafts, currency)
        breakdown = tax_breakdown(lines, currency)
        assert sum((row.tax for row in breakdown), Decimal(0)) == totals.tax_total, (price, breakdown)
        for row in breakdown:  # each row stays within a minor unit of its own exact tax
            exact = row.base * row.rate / 100
            assert abs(row.tax - exact) <= Decimal(1).scaleb(-{"USD": 2, "JPY": 0, "KWD": 3}[currency])


def test_check_payment_amount_alone():
    assert str(check_payment_amount(Decimal("10.5"), "USD", Decimal("20.00"))) == "10.50"
    with pytest.raises(ValidationError):
        check_payment_amount(Decimal("NaN"), "USD", Decimal("20.00"))
    with pytest.raises(ValidationError):
        check_payment_amount(Decimal("Infinity"), "USD", Decimal("20.00"))


# --- the clock ------------------------------------------------------------------------------


def test_every_lifecycle_fact_is_stamped_by_the_applications_clock(books: Books, clock: FakeClock):
    invoice_id = books.draft(past_due=True)
    stamps = {}
    for name, command in (
        ("sent", lambda: books.send(invoice_id)),
        ("viewed", lambda: books.view(invoice_id)),
        ("overdue", lambda: books.mark_overdue(invoice_id)),
        ("voided", lambda: books.void(invoice_id)),
    ):
        clock.advance(hours=1)
        command()
        stamps[name] = clock.now.replace(tzinfo=None)
    row = books.row(invoice_id)
    assert (row.sent_at, row.viewed_at, row.overdue_at, row.voided_at) == tuple(stamps.values())
    assert clock.now.date() > PAST_DUE and clock.now - TODAY == timedelta(hours=4)


def test_a_voided_invoice_has_nothing_due_and_keeps_what_was_paid(books: Books):
    """Nothing is owed on a void invoice: summing balanceDue over a list must not count it."""
    invoice_id, _ = books.in_status(VOID, with_payment=True)
    row = books.row(invoice_id)
    assert (str(row.total), str(row.amount_paid), str(row.balance_due)) == ("5500.00", "1000.00", "0.00")
    assert books.invoice(invoice_id).balance_due == Decimal("0.00")
    books.services.projector.rebuild()
    assert str(books.row(invoice_id).balance_due) == "0.00"


@pytest.mark.parametrize(("given", "stored"), [("  Bank transfer  ", "Bank transfer"), ("", None), ("   ", None)])
def test_payment_method_and_reference_are_tidied_like_every_other_text(books: Books, given, stored):
    invoice_id, _ = books.in_status(SENT)
    books.pay(invoice_id, "1.00", method=given, reference=given)
    [row] = books.services.read.payments(str(books.account), str(invoice_id)) or []
    assert (row.method, row.reference) == (stored, stored)
