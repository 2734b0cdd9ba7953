"""Invoices: the list with search and status chips, the draft form (lines added and
removed in place, totals priced by the server as you type), and the PDF."""

import contextlib
from decimal import Decimal
from typing import Any
from uuid import UUID

from starlette.responses import JSONResponse, Response

from domain.currencies import MINOR_UNITS
from domain.errors import DomainError, NotFound, ValidationError
from domain.invoice import STATUSES, TEXT_NAMES
from gateway.dashboard.checks import invoice_refusals
from gateway.dashboard.client_pages import page_number
from gateway.dashboard.forms import Form, date_field, decimal_field
from gateway.dashboard.problems import Problem
from gateway.dashboard.web import View, owner_page
from gateway.http.downloads import not_modified
from gateway.http.jsonio import read_json_object
from gateway.http.problems import BadRequest
from pdf.filenames import content_disposition
from usecases.inputs import InvoiceChanges, InvoiceInput, InvoiceQuery, LineInput, ListQuery, client_ref
from usecases.invoices import Moment
from usecases.pricing import Quote, quote
from usecases.views import ClientView, InvoiceDetail
from usecases.wire_names import wire_name

PAGE_SIZE = 20
LINE_FIELDS = ("description", "quantity", "unitPrice", "discountRate", "taxRate")
TEXTS = {wire_name(name): name for name in TEXT_NAMES}  # an invoice's texts by form field
TEXT_FIELDS = ("clientId", "invoiceNumber", "currency", "issueDate", "dueDate", *TEXTS)
CURRENCIES = sorted(MINOR_UNITS)
BLANK_LINE = dict.fromkeys(LINE_FIELDS, "")


def invoice_id(view: View) -> UUID:
    try:
        return UUID(view.request.path_params["invoice_id"])
    except ValueError:
        raise NotFound("Invoice not found") from None


async def _client_named(view: View, raw: str | None) -> ClientView | None:
    """The client whose invoices the list is narrowed to (one of this account's), if any."""
    if not raw:
        return None
    try:
        return await view.call(view.usecases.clients.get, view.account_id, UUID(raw))
    except (ValueError, NotFound):
        raise NotFound("Client not found") from None


async def invoices_page(view: View) -> Response:
    query = view.request.query_params
    search = query.get("search") or None
    status = query.get("status") if query.get("status") in STATUSES else None
    client = await _client_named(view, query.get("clientId"))
    context: dict[str, Any] = {"search": search or "", "chosen": status, "client": client}
    try:
        found = await view.call(
            view.usecases.invoices.list,
            view.account_id,
            InvoiceQuery(page_number(view), PAGE_SIZE, search, client.id if client else None, status),
        )
    except DomainError as exc:
        found = None
        context["problems"] = [view.explain(exc)]
    return view.page("invoices.html", status=200 if found else 400, invoices=found, **context)


# --- the draft form -----------------------------------------------------------------------------


def _typed_rows(form: Form) -> list[dict[str, str]]:
    """The form's lines as typed, blank ones too."""
    columns = [form.all(name) for name in LINE_FIELDS]
    if len({len(column) for column in columns}) > 1:
        raise BadRequest("The lines of the form do not line up")
    return [dict(zip(LINE_FIELDS, values, strict=True)) for values in zip(*columns, strict=True)]


def form_rows(form: Form) -> list[dict[str, str]]:
    """The form's lines as typed, lines left wholly blank dropped."""
    return [row for row in _typed_rows(form) if any(value.strip() for value in row.values())]


def line_inputs(rows: list[dict[str, str]]) -> list[LineInput]:
    lines = []
    for i, row in enumerate(rows):
        where = f"lineItems[{i}]"
        lines.append(
            LineInput(
                description=row["description"],
                quantity=decimal_field(row["quantity"], f"{where}.quantity"),
                unit_price=decimal_field(row["unitPrice"], f"{where}.unitPrice"),
                tax_rate=decimal_field(row["taxRate"], f"{where}.taxRate", blank=Decimal(0)),
                discount_rate=decimal_field(row["discountRate"], f"{where}.discountRate", blank=Decimal(0)),
            )
        )
    return lines


def _row(line: Any) -> dict[str, str]:
    return {
        "description": line.description,
        "quantity": str(line.quantity),
        "unitPrice": str(line.unit_price),
        "discountRate": str(line.discount_rate) if line.discount_rate else "",
        "taxRate": str(line.tax_rate) if line.tax_rate else "",
    }


def _values(invoice: InvoiceDetail | None, default_currency: str) -> dict[str, str]:
    if invoice is None:
        return {**dict.fromkeys(TEXT_FIELDS, ""), "currency": default_currency}
    return {
        "clientId": invoice.client_id,
        "invoiceNumber": invoice.invoice_number,
        "currency": invoice.currency,
        "issueDate": invoice.issue_date.isoformat(),
        "dueDate": invoice.due_date.isoformat(),
        **{wire: getattr(invoice, name) or "" for wire, name in TEXTS.items()},
    }


async def _active_clients(view: View) -> list[ClientView]:
    clients: list[ClientView] = []
    page = 1
    while True:
        found = await view.call(view.usecases.clients.list, view.account_id, ListQuery(page, 100))
        clients += found.items
        if page >= found.total_pages:
            return sorted(clients, key=lambda c: c.name.casefold())
        page += 1


def priced(currency: str, rows: list[dict[str, str]]) -> Quote:
    """The typed lines priced by the domain (a line with no description yet still has a price)."""
    return quote(currency, line_inputs([{**row, "description": row["description"] or "…"} for row in rows]))


def _quiet_quote(currency: str, rows: list[dict[str, str]]) -> Quote | None:
    try:
        return priced(currency, rows)
    except DomainError:
        return None


async def _form(
    view: View,
    invoice: InvoiceDetail | None,
    values: dict[str, str],
    rows: list[dict[str, str]],
    status: int = 200,
    **context: Any,
) -> Response:
    clients = await _active_clients(view)
    if invoice is not None and all(c.id != invoice.client_id for c in clients):
        with contextlib.suppress(NotFound):  # a draft of a client since deactivated still shows whom it is for
            clients.insert(0, await view.call(view.usecases.clients.get, view.account_id, UUID(invoice.client_id)))
    if not values.get("clientId") and view.request.query_params.get("clientId"):
        values = {**values, "clientId": view.request.query_params["clientId"]}
    return view.page(
        "invoice_form.html",
        status=status,
        invoice=invoice,
        values=values,
        rows=rows or [dict(BLANK_LINE)],
        clients=clients,
        currencies=CURRENCIES,
        quote=_quiet_quote(values.get("currency") or "USD", rows),
        **context,
    )


def _default_currency(view: View) -> str:
    return "EUR" if view.locale == "es" else "USD"


def _moved(view: View, rows: list[dict[str, str]]) -> list[dict[str, str]] | None:
    """Lines added or removed without JavaScript (the buttons submit the form): the new
    lines, or None when the form was submitted to be saved."""
    action = view.form.get("action", "save")
    if action == "add-line":
        return [*_typed_rows(view.form), dict(BLANK_LINE)]
    if action.startswith("remove-") and action[7:].isdigit():
        index = int(action[7:])
        return [row for i, row in enumerate(_typed_rows(view.form)) if i != index]
    return None


def _draft(view: View) -> tuple[dict[str, str], list[dict[str, str]]]:
    values = {name: view.form.get(name) for name in TEXT_FIELDS}
    return values, form_rows(view.form)


def _all_problems(view: View, values: dict[str, str], rows: list[dict[str, str]], exc: DomainError) -> list[Problem]:
    """A refused draft's every problem (a missing client no longer hides a line's), or the one
    refusal that is not about what was typed (a plan's limit, a number taken)."""
    if not isinstance(exc, ValidationError):
        return [view.explain(exc)]
    return [view.explain(error) for error in invoice_refusals(values, rows, exc)]


async def new_invoice(view: View) -> Response:
    if view.reading:
        return await _form(view, None, _values(None, _default_currency(view)), [])
    values, rows = _draft(view)
    moved = _moved(view, rows)
    if moved is not None:
        return await _form(view, None, values, moved)
    try:
        given = InvoiceInput(
            client_id=client_ref(values["clientId"]),
            line_items=line_inputs(rows),
            invoice_number=values["invoiceNumber"] or None,
            currency=values["currency"] or None,
            issue_date=date_field(values["issueDate"], "issueDate"),
            due_date=date_field(values["dueDate"], "dueDate"),
            **{name: values[wire] or None for wire, name in TEXTS.items()},
        )
        created = await view.call(view.usecases.invoices.create, view.account_id, given)
    except DomainError as exc:
        problems = _all_problems(view, values, rows, exc)
        return await _form(view, None, values, rows, view.status_of(exc), problems=problems)
    return view.redirect(f"/invoices/{created.id}", "invoice-created")


async def edit_invoice(view: View) -> Response:
    the_id = invoice_id(view)
    invoice = await view.call(view.usecases.invoices.detail, view.account_id, the_id)
    if view.reading:
        return await _form(
            view, invoice, _values(invoice, invoice.currency), [_row(line) for line in invoice.line_items]
        )
    values, rows = _draft(view)
    moved = _moved(view, rows)
    if moved is not None:
        return await _form(view, invoice, values, moved)
    try:
        issue, due = date_field(values["issueDate"], "issueDate"), date_field(values["dueDate"], "dueDate")
        if issue is None or due is None:
            raise ValidationError(f"Field '{'issueDate' if issue is None else 'dueDate'}' must be a date")
        changes = InvoiceChanges(
            {
                "clientId": client_ref(values["clientId"]),
                "invoiceNumber": values["invoiceNumber"],
                "currency": values["currency"],
                "issueDate": issue,
                "dueDate": due,
                "lineItems": line_inputs(rows),
                **{wire: values[wire] or None for wire in TEXTS},
            }
        )
        await view.call(view.usecases.invoices.update, view.account_id, the_id, changes)
    except DomainError as exc:
        problems = _all_problems(view, values, rows, exc)
        return await _form(view, invoice, values, rows, view.status_of(exc), problems=problems)
    return view.redirect(f"/invoices/{the_id}", "invoice-saved")


# --- live totals ----------------------------------------------------------------------------------


async def price(view: View) -> Response:
    """A draft's totals as the invoice will have them: ``{"lines": [...], "subtotal", ...}``
    written in the reader's locale, or ``{"error", "field"}``."""
    body = await read_json_object(view.request, view.dashboard.services.settings.max_body_bytes)
    currency = body.get("currency")
    rows = body.get("lines")
    if not isinstance(currency, str) or not isinstance(rows, list) or len(rows) > 500:
        raise BadRequest("Send {currency, lines}")
    typed = []
    for row in rows:
        if not isinstance(row, dict) or not all(isinstance(row.get(name, ""), str) for name in LINE_FIELDS):
            raise BadRequest("Each line is an object of strings")
        typed.append({name: str(row.get(name, "")) for name in LINE_FIELDS})
    typed = [row for row in typed if any(value.strip() for value in row.values())]
    try:
        found = priced(currency, typed)
    except DomainError as exc:
        problem = view.explain(exc)
        return JSONResponse({"error": problem.text, "field": problem.field}, status_code=200)
    fmt = view.fmt

    def money(amount: Decimal) -> str:
        return fmt.money(amount, found.currency)

    return JSONResponse(
        {
            "currency": found.currency,
            # what each line costs, after its discount, as the PDF prints it; the lines add up to "net"
            "lines": [{"amount": money(line.amount - line.discount)} for line in found.lines],
            "subtotal": money(found.totals.subtotal),
            "discount": money(-found.totals.discount_total) if found.totals.discount_total else None,
            "net": (
                money(found.totals.subtotal - found.totals.discount_total) if found.totals.discount_total else None
            ),
            "taxes": [
                {"label": tax_label(view, tax.rate, fmt.money(tax.base, found.currency)), "amount": money(tax.tax)}
                for tax in found.taxes
            ],
            "total": money(found.totals.total),
        },
        headers={"Cache-Control": "no-store"},
    )


def tax_label(view: View, rate: Decimal, base: str) -> str:
    return view.gettext("Tax %(rate)s on %(base)s") % {"rate": view.fmt.percent(rate), "base": base}


# --- the PDF ------------------------------------------------------------------------------------


async def invoice_pdf(view: View) -> Response:
    """The PDF, shown in the page (or downloaded with ``?download=1``); ``?version=N`` is
    that version's."""
    the_id = invoice_id(view)
    version = view.request.query_params.get("version")
    invoices = view.usecases.invoices
    if version is not None:
        if not (version.isascii() and version.isdigit() and 0 < len(version) < 10):
            raise BadRequest("Parameter 'version' must be an integer >= 1")
        document = await view.call(invoices.past_document, view.account_id, the_id, Moment(version=int(version)))
        pdf = await view.call(invoices.render_past, document)
    else:
        pdf = await view.call(invoices.pdf, view.account_id, the_id)
    unchanged = not_modified(view.request, pdf.etag)
    if unchanged is not None:
        return unchanged
    disposition = content_disposition(f"{pdf.invoice_number}.pdf")
    if view.request.query_params.get("download") != "1":
        disposition = disposition.replace("attachment", "inline", 1)
    headers = {
        "ETag": pdf.etag,
        "Cache-Control": "private, no-cache",
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",
        "Content-Security-Policy": "frame-ancestors 'self'",
    }
    return Response(pdf.content, media_type="application/pdf", headers=headers)


INVOICES = owner_page(invoices_page)
NEW = owner_page(new_invoice)
EDIT = owner_page(edit_invoice)
PRICE = owner_page(price, form=False)
PDF = owner_page(invoice_pdf)
