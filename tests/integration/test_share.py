"""The share link over HTTP without a key: the invoice's own page, the first view, void,
unknown tokens, the PDF, the per-address rate limit and HTML escaping."""

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from markupsafe import escape  # as the templates escape (Jinja autoescape)
from simplejson import RawJSON

from domain.lifecycle import PAID, PARTIALLY_PAID, SENT, VIEWED, VOID
from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Api as BaseApi
from tests.conftest import FakeClock, Tenant, TestClient, payload
from tests.pdf_support import pdf_text

TOKEN = re.compile(r"/i/([A-Za-z0-9_-]+)$")


class Seller(BaseApi):
    """A tenant's API door, plus the share page as an anonymous browser sees it."""

    def __init__(self, http: TestClient, tenant: Tenant, services: Services) -> None:
        super().__init__(http, tenant)
        self.services = services

    def issued(self, client: dict[str, Any] | None = None, **fields: Any) -> tuple[str, str]:
        """A sent invoice: (invoice id, share token)."""
        client = client or self.create_client(name="Acme Corp", email="billing@acme.test")
        invoice_id = self.create_invoice(client["id"], **fields)["id"]
        response = self.post(f"/api/v1/invoices/{invoice_id}/send", None)
        assert response.status_code == 200, response.text
        url = payload(response)["data"]["shareUrl"]
        return invoice_id, TOKEN.search(url).group(1)  # type: ignore[union-attr]

    def page(self, token: str, **headers: str) -> Any:
        return self.http.get(f"/i/{token}", headers=headers)

    def events(self) -> int:
        return self.services.app.recorder.max_notification_id() or 0


def open_seller(http: TestClient, services: Services, locale: str = "en", name: str = "Seller Ltd") -> Seller:
    details = {"address": "1 Main Street\nSpringfield", "email": "billing@seller.test", "phone": "+1 555 0100"}
    account_id = services.execute(lambda: services.app.open_account(name, "pro", locale, details))
    key_id, key = services.execute(lambda: services.app.issue_api_key(account_id))
    return Seller(http, Tenant(account_id, key_id, key), services)


@pytest.fixture
def seller(http: TestClient, services: Services) -> Seller:
    return open_seller(http, services)


def html(response: Any, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    text: str = response.text
    assert text.startswith("<!doctype html>") and '<meta name="robots" content="noindex">' in text
    return text


# --- the page ---------------------------------------------------------------------------------


def test_the_page_shows_seller_client_lines_totals_balance_and_the_pdf_link(seller: Seller):
    invoice_id, token = seller.issued(
        invoiceNumber="INV-0042",
        issueDate="2024-06-01",
        dueDate="2024-07-01",
        notes="Thank you for your business",
        terms="Net 30",
        lineItems=[
            {"description": "Web Development", "quantity": 40, "unitPrice": 125, "taxRate": 10, "discountRate": 10},
            {"description": "Hosting", "quantity": 1, "unitPrice": RawJSON("19.99"), "taxRate": 0},
        ],
    )
    page = html(seller.page(token))
    for expected in (
        "<title>Invoice INV-0042 — Seller Ltd</title>",
        "Seller Ltd",
        "1 Main Street",
        "Springfield",
        "billing@seller.test",
        "Acme Corp",
        "INV-0042",
        "Jun 1, 2024",
        "Jul 1, 2024",
        "Web Development",
        "Hosting",
        "$125.00",
        "$4,500.00",  # the line's amount: what it costs, after its discount (as the PDF says)
        "$5,019.99",  # subtotal
        "-$500.00",  # discount
        'Subtotal after discount</td><td class="num">$4,519.99',
        "Tax 0% on $19.99",
        "Tax 10% on $4,500.00",
        "$450.00",  # tax
        "$4,969.99",  # total
        "Balance due",
        "Thank you for your business",
        "Net 30",
        f'href="/i/{token}/pdf"',
    ):
        assert expected in page, expected
    assert "Amount paid" not in page
    assert seller.invoice(invoice_id)["status"] == VIEWED


def test_the_page_needs_no_key_and_ignores_a_bad_one(seller: Seller):
    _, token = seller.issued()
    assert seller.http.get(f"/i/{token}").status_code == 200
    assert seller.page(token, Authorization="Bearer nonsense").status_code == 200


def test_the_first_view_records_viewed_exactly_once(seller: Seller, clock: FakeClock):
    invoice_id, token = seller.issued()
    assert seller.invoice(invoice_id)["viewedAt"] is None
    before = seller.events()
    clock.advance(hours=2)
    html(seller.page(token))
    detail = seller.invoice(invoice_id)
    assert (detail["status"], detail["viewedAt"]) == (VIEWED, "2024-06-15T14:00:00.000Z")
    assert seller.events() == before + 1
    clock.advance(days=1)
    for _ in range(3):
        html(seller.page(token))
    assert seller.events() == before + 1
    assert seller.invoice(invoice_id)["viewedAt"] == "2024-06-15T14:00:00.000Z"


def test_viewing_a_partly_paid_invoice_records_the_view_and_keeps_its_status(seller: Seller):
    invoice_id, token = seller.issued()
    seller.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": 1000})
    page = html(seller.page(token))
    assert "Amount paid" in page and "$1,000.00" in page and "$4,500.00" in page
    detail = seller.invoice(invoice_id)
    assert detail["status"] == PARTIALLY_PAID and detail["viewedAt"] is not None


def test_a_paid_invoice_is_stamped_paid_with_nothing_due(seller: Seller):
    invoice_id, token = seller.issued()
    seller.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": RawJSON("5500.00")})
    page = html(seller.page(token))
    assert '<span class="stamp paid">Paid</span>' in page
    assert re.search(r'Balance due</td><td class="num">\$0\.00<', page)
    assert seller.invoice(invoice_id)["status"] == PAID


def test_a_voided_invoice_still_shows_marked_void_and_records_no_view(seller: Seller):
    invoice_id, token = seller.issued()
    seller.post(f"/api/v1/invoices/{invoice_id}/void", {"reason": "Issued twice"})
    before = seller.events()
    page = html(seller.page(token))
    assert "This invoice was voided</strong>: Issued twice" in page
    assert 'class="stamp void"' in page
    assert "Balance due" not in page
    assert "$5,500.00" in page  # still the invoice it was
    assert seller.events() == before
    detail = seller.invoice(invoice_id)
    assert (detail["status"], detail["viewedAt"]) == (VOID, None)


def test_the_page_speaks_the_sellers_language(http: TestClient, services: Services):
    vendedor = open_seller(http, services, "es", "Vendedor SL")
    _, token = vendedor.issued()
    page = html(vendedor.page(token))
    assert '<html lang="es">' in page
    for expected in ("Factura", "Saldo pendiente", "Descargar PDF", "Facturar a", "Impuesto 10 % sobre"):
        assert expected in page, expected


# --- unknown links ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    ["unknown", "A" * 32, "x" * 2000, "%00", "%ED%A0%80", "%E2%82%AC", "' OR '1'='1", "<script>"],
)
def test_an_unknown_token_is_a_404_page(seller: Seller, token):
    seller.issued()
    before = seller.events()
    for url in (f"/i/{token}", f"/i/{token}/pdf"):
        page = html(seller.http.get(url), 404)
        assert "Invoice not found" in page and "<script>" not in page.split("</style>", 1)[1]
    assert seller.events() == before


def test_a_draft_cannot_be_reached_by_any_link(seller: Seller):
    draft = seller.create_invoice(seller.create_client()["id"])
    assert seller.invoice(draft["id"])["shareUrl"] is None
    html(seller.http.get(f"/i/{draft['id']}"), 404)


# --- the PDF ------------------------------------------------------------------------------------


def test_the_pdf_downloads_without_a_key(seller: Seller):
    invoice_id, token = seller.issued(invoiceNumber="INV-0042")
    response = seller.http.get(f"/i/{token}/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="INV-0042.pdf"'
    assert response.content.startswith(b"%PDF")
    assert "INV-0042" in pdf_text(response.content)
    again = seller.http.get(f"/i/{token}/pdf", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    own = seller.get(f"/api/v1/invoices/{invoice_id}/pdf")
    assert own.headers["etag"] == response.headers["etag"]


def test_the_pdf_of_a_voided_invoice_can_still_be_downloaded(seller: Seller):
    invoice_id, token = seller.issued()
    seller.post(f"/api/v1/invoices/{invoice_id}/void", None)
    response = seller.http.get(f"/i/{token}/pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


# --- the rate limit -----------------------------------------------------------------------------


@pytest.fixture
def limited(make_settings: Callable[..., Settings], clock: FakeClock) -> Iterator[tuple[Settings, Services]]:
    settings = make_settings(CLEVERINVO_SHARE_RATE_LIMIT="3/minute")
    services = Services(settings, clock=clock)
    yield settings, services
    services.close()


def test_share_pages_have_their_own_per_address_rate_limit(limited):
    settings, services = limited
    app = create_app(settings, services)
    with TestClient(app, raise_server_exceptions=False) as http:
        seller = open_seller(http, services)
        _, token = seller.issued()
        # page, PDF and unknown tokens all spend the same budget: 3 a minute
        assert [r.status_code for r in (seller.page(token), http.get(f"/i/{token}/pdf"), http.get("/i/nope"))] == [
            200,
            200,
            404,
        ]
        for url in (f"/i/{token}", f"/i/{token}/pdf", "/i/nope"):
            refused = http.get(url)
            assert refused.status_code == 429, url
            assert "Too many requests" in html(refused, 429)
            assert int(refused.headers["retry-after"]) >= 1
            assert refused.headers["ratelimit-limit"] == "3" and refused.headers["ratelimit-remaining"] == "0"
        # the API's own budget is another one
        assert seller.get("/api/v1/invoices").status_code == 200
        assert seller.get("/api/v1/invoices").headers["ratelimit-limit"] == "120"
    with TestClient(app, raise_server_exceptions=False, client=("203.0.113.9", 40000)) as elsewhere:
        assert elsewhere.get(f"/i/{token}").status_code == 200  # another address has its own budget


def test_a_bad_share_rate_limit_setting_is_refused(make_settings):
    from gateway.settings import SettingsError

    for bad in ("lots", "0/minute", "5/fortnight"):
        with pytest.raises(SettingsError, match="CLEVERINVO_SHARE_RATE_LIMIT"):
            make_settings(CLEVERINVO_SHARE_RATE_LIMIT=bad)


# --- escaping -----------------------------------------------------------------------------------

HOSTILE = "<script>alert('x')</script>"


def test_everything_the_seller_or_client_wrote_is_escaped(http: TestClient, services: Services):
    seller = open_seller(http, services, name='<b onmouseover="alert(1)">Seller</b>')
    client = seller.create_client(name=HOSTILE, email="billing@acme.test")
    invoice_id, token = seller.issued(
        client,
        invoiceNumber="INV-<i>1</i>",
        notes="Fish & Chips <img src=x onerror=alert(2)>\nsecond line",
        terms="\"quoted\" & 'single'",
        lineItems=[{"description": "<iframe src=//evil.test>", "quantity": 1, "unitPrice": 10}],
    )
    seller.post(f"/api/v1/invoices/{invoice_id}/void", {"reason": "</strong><script>alert(3)</script>"})
    page = html(seller.page(token))
    body = page.split("</style>", 1)[1]
    for raw in (HOSTILE, "<b onmouseover", "<i>1</i>", "<img src=x", "<iframe", "<script>alert(3)"):
        assert raw not in body, raw
    for text in (
        HOSTILE,
        '<b onmouseover="alert(1)">Seller</b>',
        "INV-<i>1</i>",
        "Fish & Chips <img src=x onerror=alert(2)>",
        "\"quoted\" & 'single'",
        "<iframe src=//evil.test>",
        "</strong><script>alert(3)</script>",
    ):
        assert escape(text) in body, text
    assert "<script" not in page and "<iframe" not in page
    assert f"<title>{escape('Invoice INV-<i>1</i> — <b onmouseover')}" in page


def test_a_client_renamed_after_sending_is_escaped_too(seller: Seller):
    client = seller.create_client(name="Acme Corp")
    _, token = seller.issued(client)
    seller.patch(f"/api/v1/clients/{client['id']}", {"name": HOSTILE})
    page = html(seller.page(token))
    assert HOSTILE not in page and escape(HOSTILE) in page


def test_the_page_is_for_a_sent_invoice_only_once_sent(seller: Seller):
    invoice_id, token = seller.issued()
    assert seller.invoice(invoice_id)["status"] == SENT
    html(seller.page(token))
    seller.post(f"/api/v1/invoices/{invoice_id}/send", None)  # a re-send keeps the link
    assert seller.invoice(invoice_id)["shareUrl"].endswith(f"/i/{token}")
    html(seller.page(token))
