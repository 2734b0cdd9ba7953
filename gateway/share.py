"""The share link: an invoice's own page and its PDF, for whoever holds the link.

No API key: the unguessable token in the path is the credential. The first view of a sent
invoice records it as viewed. These pages have their own per-address rate limit, so a
token cannot be guessed by brute force and a shared link cannot be used to load the server.
"""

from decimal import Decimal
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from gateway.downloads import pdf_response
from gateway.handling import call, usecases_of
from gateway.ratelimit import RateLimiter
from pdf.formats import Formats
from projections.views import AccountView, InvoiceDetail

WORDS = {
    "en": {
        "download": "Download PDF",
        "paid": "Amount paid",
        "balance": "Balance due",
        "void": "This invoice was voided",
        "missing": "This link does not lead to an invoice.",
        "missing_title": "Invoice not found",
        "busy": "Too many requests; try again in a minute.",
    },
    "es": {
        "download": "Descargar PDF",
        "paid": "Importe pagado",
        "balance": "Saldo pendiente",
        "void": "Esta factura fue anulada",
        "missing": "Este enlace no lleva a ninguna factura.",
        "missing_title": "Factura no encontrada",
        "busy": "Demasiadas peticiones; inténtelo dentro de un minuto.",
    },
}

STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2937;background:#f3f4f6;margin:0}
main{max-width:760px;margin:2rem auto;background:#fff;border-radius:12px;padding:2rem;
box-shadow:0 1px 3px rgba(0,0,0,.08)}
header{display:flex;justify-content:space-between;gap:1rem;flex-wrap:wrap}
h1{font-size:1.6rem;margin:0}.muted{color:#6b7280}.small{font-size:.85rem}
table{width:100%;border-collapse:collapse;margin:1.5rem 0}th,td{padding:.5rem;border-bottom:1px solid #e5e7eb}
th{text-align:left;font-size:.8rem;color:#6b7280;text-transform:uppercase}.num{text-align:right;white-space:nowrap}
.totals{margin-left:auto;width:auto;min-width:280px}.totals td{border:0;padding:.25rem .5rem}
.due td{font-weight:700;font-size:1.1rem;border-top:2px solid #1f2937}
.stamp{display:inline-block;border:2px solid #b91c1c;color:#b91c1c;padding:.2rem .8rem;border-radius:6px;
font-weight:700;letter-spacing:.1em}.stamp.paid{border-color:#047857;color:#047857}
a.button{display:inline-block;background:#1f2937;color:#fff;padding:.6rem 1.2rem;border-radius:8px;
text-decoration:none}a.button:focus{outline:3px solid #93c5fd}
@media (max-width:600px){main{margin:0;border-radius:0;padding:1rem}}
"""


def _page(title: str, body: str, lang: str, status: int = 200) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>"
    )
    headers = {
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",  # the token must not leak to sites the page links to
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        "X-Content-Type-Options": "nosniff",
    }
    return HTMLResponse(html, status_code=status, headers=headers)


def _lines(text: str | None) -> str:
    return "<br>".join(escape(line) for line in (text or "").splitlines() if line.strip())


def render_invoice(invoice: InvoiceDetail, account: AccountView, pdf_href: str) -> HTMLResponse:
    f = Formats(account.locale)
    labels, words = f.labels, WORDS.get(account.locale, WORDS["en"])

    def money(amount: Decimal) -> str:
        return escape(f.money(amount, invoice.currency))

    status = invoice.status
    stamp = ""
    if status in ("PAID", "VOID"):
        stamp = f'<p><span class="stamp {status.lower()}">{escape(labels.get(status, status))}</span></p>'
    seller = "".join(
        f"<div>{escape(part)}</div>"
        for part in [*(account.address or "").splitlines(), account.email or "", account.phone or ""]
        if part.strip()
    )
    discounted = any(line.discount_rate for line in invoice.line_items)

    def discount_cell(rate: Decimal) -> str:
        return f"<td class=num>{escape(f.percent(rate)) if rate else ''}</td>" if discounted else ""

    rows = "".join(
        f"<tr><td>{escape(line.description)}</td><td class=num>{escape(f.number(line.quantity))}</td>"
        f"<td class=num>{money(line.unit_price)}</td>{discount_cell(line.discount_rate)}"
        f"<td class=num>{escape(f.percent(line.tax_rate))}</td><td class=num>{money(line.amount)}</td></tr>"
        for line in invoice.line_items
    )
    totals = [(labels["subtotal"], invoice.subtotal)]
    if invoice.discount_total:
        totals.append((labels["discount"], -invoice.discount_total))
    totals += [(labels["tax_total"], invoice.tax_total), (labels["total"], invoice.total)]
    if invoice.amount_paid:
        totals.append((words["paid"], invoice.amount_paid))
    total_rows = "".join(f"<tr><td>{escape(name)}</td><td class=num>{money(value)}</td></tr>" for name, value in totals)
    due = (
        ""
        if status == "VOID"
        else f"<tr class=due><td>{escape(words['balance'])}</td><td class=num>{money(invoice.balance_due)}</td></tr>"
    )
    void_note = ""
    if status == "VOID":
        reason = f": {escape(invoice.void_reason)}" if invoice.void_reason else ""
        void_note = f"<p><strong>{escape(words['void'])}</strong>{reason}</p>"
    heads = "".join(
        f"<th{' class=num' if i else ''}>{escape(labels[k])}</th>"
        for i, k in enumerate(
            ("description", "quantity", "unit_price", *(("discount_rate",) if discounted else ()), "tax", "amount")
        )
    )
    notes = "".join(
        f"<h2 class='small muted'>{escape(labels[key].upper())}</h2><p>{_lines(value)}</p>"
        for key, value in (("notes", invoice.notes), ("terms", invoice.terms))
        if value
    )
    body = (
        f"<header><div><h1>{escape(account.name)}</h1><div class='muted small'>{seller}</div></div>"
        f"<div style='text-align:right'><div class=muted>{escape(labels['invoice'])}</div>"
        f"<h1>{escape(invoice.invoice_number)}</h1>"
        f"<div class=small>{escape(labels['issue_date'])}: {escape(f.date(invoice.issue_date))}</div>"
        f"<div class=small>{escape(labels['due_date'])}: {escape(f.date(invoice.due_date))}</div></div></header>"
        f"{stamp}{void_note}"
        f"<p><span class='muted small'>{escape(labels['bill_to'].upper())}</span><br>"
        f"<strong>{escape(invoice.client_name)}</strong></p>"
        f"<table><thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table>"
        f"<table class=totals>{total_rows}{due}</table>{notes}"
        f'<p><a class=button href="{escape(pdf_href)}" download>{escape(words["download"])}</a></p>'
    )
    return _page(f"{labels['invoice']} {invoice.invoice_number} — {account.name}", body, f.locale.language)


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.share_limiter
    return limiter


async def _allowed(request: Request) -> Response | None:
    """A 429 page when this address has used its budget for share pages, else None."""
    client = request.client
    budget = await _limiter(request).spend(f"share:{client.host if client else 'unknown'}")
    if budget.allowed:
        return None
    response = _page("429", f"<p>{escape(WORDS['en']['busy'])}</p>", "en", 429)
    response.headers.update(budget.headers())
    return response


def _not_found() -> HTMLResponse:
    words = WORDS["en"]
    return _page(words["missing_title"], f"<h1>{words['missing_title']}</h1><p>{words['missing']}</p>", "en", 404)


async def shared_invoice(request: Request) -> Response:
    refused = await _allowed(request)
    if refused is not None:
        return refused
    shared = await call(usecases_of(request).sharing.open, request.path_params["token"])
    if shared is None:
        return _not_found()
    return render_invoice(shared.invoice, shared.seller, f"{request.url.path}/pdf")


async def shared_pdf(request: Request) -> Response:
    refused = await _allowed(request)
    if refused is not None:
        return refused
    pdf = await call(usecases_of(request).sharing.pdf, request.path_params["token"])
    return _not_found() if pdf is None else pdf_response(request, pdf)


ROUTES = [
    Route("/i/{token}", shared_invoice, methods=["GET"]),
    Route("/i/{token}/pdf", shared_pdf, methods=["GET"]),
]
