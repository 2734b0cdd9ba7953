"""One invoice: its lines and totals, its PDF, what can be done next (send, payments,
void, delete), its history as a timeline, and any past version of it."""

import re
from typing import Any
from uuid import UUID

from starlette.responses import Response

from domain.errors import DomainError, NotFound
from domain.money import tax_breakdown
from gateway.dashboard.forms import Form, date_field, decimal_field
from gateway.dashboard.history import timeline
from gateway.dashboard.invoice_pages import invoice_id, tax_label
from gateway.dashboard.problems import Problem
from gateway.dashboard.web import View, owner_page
from gateway.http.problems import BadRequest
from usecases.inputs import PaymentInput, sending
from usecases.invoices import Moment
from usecases.next_steps import next_steps

_ENTRIES = re.compile(r"[,;]")


def _version(view: View) -> int | None:
    raw = view.request.query_params.get("version")
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and 0 < len(raw) < 10 and int(raw) > 0):
        raise BadRequest("Parameter 'version' must be an integer >= 1")
    return int(raw)


async def _detail(view: View, status: int = 200, **context: Any) -> Response:
    the_id = invoice_id(view)
    version = _version(view) if view.reading else None
    usecases = view.usecases
    read = await view.call(usecases.invoices.get, view.account_id, the_id, Moment(version=version))
    history = await view.call(usecases.auditing.invoice_history, view.account_id, the_id)
    latest = history[-1]["version"] if history else 1
    past = version is not None and version != latest
    invoice = read.invoice
    payments = (
        read.payments
        if read.payments is not None
        else await view.call(usecases.lifecycle.payments, view.account_id, the_id)
    )
    fmt = view.fmt
    taxes = [
        (tax_label(view, tax.rate, fmt.money(tax.base, invoice.currency)), tax.tax)
        for tax in tax_breakdown(invoice.line_items, invoice.currency)
    ]
    share = f"{view.public_url}/i/{invoice.share_token}" if invoice.share_token and not past else None
    return view.page(
        "invoice.html",
        status=status,
        invoice=invoice,
        client=read.client,
        payments=payments,
        taxes=taxes,
        steps=frozenset() if past else next_steps(invoice.status),
        past=past,
        version=version or latest,
        latest=latest,
        timeline=timeline(view, history, "invoice"),
        share_url=share,
        today=usecases.today().isoformat(),
        **{"sent": {}, **context},
    )


async def invoice_page(view: View) -> Response:
    return await _detail(view)


async def _act(view: View, action: Any, notice: str, form_name: str) -> Response:
    """Runs one lifecycle command; a refusal shows the page again with the message and
    what was typed, having written nothing."""
    try:
        await action()
    except DomainError as exc:
        if exc.code == "NOT_FOUND" and form_name != "payment":
            raise
        sent = {name: value for name, value in view.form.pairs if name != "csrf"}
        problems = [_named_field(view.explain(exc), view.form)]
        return await _detail(view, view.status_of(exc), problems=problems, sent=sent, open_form=form_name)
    return view.redirect(f"/invoices/{invoice_id(view)}", notice)


def _addresses(text: str) -> tuple[str, ...]:
    """The addresses typed, separated by commas or semicolons; an entry of several words is
    several addresses when each word is one (a@x.test b@y.test), else one entry, refused
    whole ("not an address", not "not")."""
    found: list[str] = []
    for entry in _ENTRIES.split(text):
        words = entry.split()
        if len(words) > 1 and not all("@" in word for word in words):
            found.append(" ".join(words))
        else:
            found += words
    return tuple(found)


def _named_field(problem: Problem, form: Form) -> Problem:
    """A refused address points at the field it was typed in (the message names To)."""
    if problem.field == "to" and any(f"“{entry}”" in problem.text for entry in _addresses(form.get("cc"))):
        return Problem(problem.text, "cc")
    return problem


async def send(view: View) -> Response:
    form = view.form
    by_email = form.get("email") == "1"
    the_id = invoice_id(view)

    async def command() -> None:
        how = sending(by_email, _addresses(form.get("to")), _addresses(form.get("cc")), form.optional("message"))
        await view.call(view.usecases.lifecycle.send, view.account_id, the_id, how)

    return await _act(view, command, "invoice-emailed" if by_email else "invoice-sent", "send")


async def record_payment(view: View) -> Response:
    form = view.form
    the_id = invoice_id(view)

    async def command() -> None:
        given = PaymentInput(
            amount=decimal_field(form.get("amount"), "amount"),
            paid_on=date_field(form.get("date"), "date"),
            method=form.optional("method"),
            reference=form.optional("reference"),
        )
        await view.call(view.usecases.lifecycle.record_payment, view.account_id, the_id, given)

    return await _act(view, command, "payment-recorded", "payment")


async def reverse_payment(view: View) -> Response:
    the_id = invoice_id(view)
    try:
        payment_id = UUID(view.request.path_params["payment_id"])
    except ValueError:
        raise NotFound("Payment not found") from None

    async def command() -> None:
        await view.call(view.usecases.lifecycle.reverse_payment, view.account_id, the_id, payment_id)

    return await _act(view, command, "payment-reversed", "reverse")


async def void(view: View) -> Response:
    the_id = invoice_id(view)

    async def command() -> None:
        await view.call(view.usecases.lifecycle.void, view.account_id, the_id, view.form.optional("reason"))

    return await _act(view, command, "invoice-voided", "void")


async def delete(view: View) -> Response:
    the_id = invoice_id(view)
    try:
        await view.call(view.usecases.invoices.delete, view.account_id, the_id)
    except DomainError as exc:
        if exc.code == "NOT_FOUND":
            raise
        return await _detail(view, 409, problems=[view.explain(exc)])
    return view.redirect("/invoices", "invoice-deleted")


INVOICE = owner_page(invoice_page)
SEND = owner_page(send)
PAY = owner_page(record_payment)
REVERSE = owner_page(reverse_payment)
VOID = owner_page(void)
DELETE = owner_page(delete)
