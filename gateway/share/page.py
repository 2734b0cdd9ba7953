"""The share link's pages (``/i/{token}``), rendered from the dashboard's templates and
catalogs: the invoice in the seller's language, as its PDF is, saying what the PDF says
(both parties' details with their tax ids, each line at what it costs after its discount,
the tax of each rate on its base); and the pages for a
link that leads nowhere or a reader who asked too often, in the reader's language.

No script, nothing fetched: the stylesheet is inlined and allowed by its hash alone.
"""

import base64
import functools
import hashlib
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup
from starlette.responses import HTMLResponse

from domain.account import LOCALES
from domain.money import tax_breakdown
from gateway.dashboard.i18n import DEFAULT, Formatter
from gateway.dashboard.rendering import STATIC_DIR, environment
from pdf.document import InvoiceDocument
from translations import N_, catalog
from usecases.views import AccountView, ClientView, InvoiceDetail

NOT_FOUND = (N_("Invoice not found"), N_("This link does not lead to an invoice."))
TOO_MANY = (N_("Too many requests"), N_("Too many requests; try again in a minute."))
UNVERIFIED = (
    N_("Invoice unavailable"),
    N_("This invoice cannot be shown: its stored records failed an integrity check. Ask the seller for a copy."),
)


@functools.cache
def style() -> str:
    return (STATIC_DIR / "share.css").read_text(encoding="utf-8")


@functools.cache
def content_security_policy() -> str:
    """Nothing but the page's own stylesheet (inline, allowed by its hash: CSP Level 3,
    "hash-source"); never framed ("frame-ancestors"), no forms, no base URL."""
    digest = base64.b64encode(hashlib.sha256(style().encode("utf-8")).digest()).decode("ascii")
    return "; ".join(
        (
            "default-src 'none'",
            f"style-src 'sha256-{digest}'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


def headers() -> dict[str, str]:
    return {
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",  # the token must not leak to sites the page links to
        "Content-Security-Policy": content_security_policy(),
        "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it (RFC 7034)
        "X-Content-Type-Options": "nosniff",
    }


def _page(template: str, locale: str, context: Mapping[str, Any], status: int = 200) -> HTMLResponse:
    html = environment(locale).get_template(template).render(locale=locale, style=Markup(style()), **context)
    return HTMLResponse(html, status_code=status, headers=headers())


def invoice_page(invoice: InvoiceDetail, seller: AccountView, client: ClientView | None, pdf_href: str) -> HTMLResponse:
    locale = seller.locale if seller.locale in LOCALES else DEFAULT
    # the parties' blocks line for line as the PDF prints them (each tax id labelled by its
    # holder's country), without the names the page shows as headings
    document = InvoiceDocument(invoice, client, seller)
    context = {
        "invoice": invoice,
        "seller": seller,
        "seller_lines": document.seller_lines(document.seller_tax_label(locale))[1:],
        "client_lines": document.client_lines(document.client_tax_label(locale))[1:],
        "discounted": any(line.discount_rate for line in invoice.line_items),
        "taxes": tax_breakdown(invoice.line_items, invoice.currency),
        "fmt": Formatter(locale),
        "pdf_href": pdf_href,
    }
    return _page("share.html", locale, context)


def message_page(locale: str, status: int, message: tuple[str, str]) -> HTMLResponse:
    """A page without an invoice (``NOT_FOUND``, ``TOO_MANY``)."""
    told = catalog(locale).gettext
    title, text = message
    return _page("share_message.html", locale, {"title": told(title), "text": told(text)}, status)
