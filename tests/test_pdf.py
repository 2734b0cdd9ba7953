"""Invoice PDFs end to end: real app, real SQLite, real borb, text read back with pypdf."""

import io
import ipaddress
import socket
import sys
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pikepdf
import pypdf
import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from pdf import fonts
from pdf.borb_setup import borb_get_width
from pdf.document import InvoiceDocument
from pdf.layout import render
from projections.views import AccountView, InvoiceDetail

NOW = datetime(2024, 1, 1)

# --- an audit hook that records every outbound connection (it cannot be removed, so it
# --- only records while a test switches it on)
_connections: list[Any] = []
_recording = [False]


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect" and _recording[0]:
        _connections.append(args[1])


sys.addaudithook(_audit)


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return isinstance(address, (str, bytes))  # a unix socket path stays on this machine


def _text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    raw = "\n".join(page.extract_text() for page in reader.pages)
    return unicodedata.normalize("NFC", raw.replace("\u00a0", " ").replace("\u202f", " "))


class Api:
    def __init__(self, client: TestClient, key: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.client.post(f"/api/v1{path}", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()["data"]

    def get(self, path: str, **headers: str) -> Any:
        return self.client.get(f"/api/v1{path}", headers={**self.headers, **headers})


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    core = Services(Settings.from_env({"CLEVERINVO_DATA_DIR": str(tmp_path)}))
    yield core
    core.close()


def _api(services: Services, locale: str = "en", name: str = "Seller Ltd") -> Iterator[Api]:
    account = services.execute(lambda: services.app.open_account(name, "business", locale))
    _, key = services.execute(lambda: services.app.issue_api_key(account, "test"))
    with TestClient(create_app(services.settings, services), raise_server_exceptions=False) as client:
        yield Api(client, key)


@pytest.fixture
def api(services: Services) -> Iterator[Api]:
    yield from _api(services)


@pytest.fixture
def api_es(services: Services) -> Iterator[Api]:
    yield from _api(services, "es", "Vendedor SL")


def _invoice(
    api: Api, client_name: str = "Müller GmbH", lines: list[dict[str, Any]] | None = None, **fields: Any
) -> dict[str, Any]:
    client = api.post("/clients", {"name": client_name, "email": "billing@example.test", "address": "Hauptstraße 1"})
    body = {
        "clientId": client["id"],
        "invoiceNumber": "INV-0042",
        "issueDate": "2024-06-01",
        "dueDate": "2024-07-01",
        "lineItems": lines or [{"description": "Web Development", "quantity": 40, "unitPrice": 125.00, "taxRate": 10}],
        "notes": "Thank you for your business",
        "terms": "Payment due within 30 days",
        **fields,
    }
    return dict(api.post("/invoices", body))


def test_pdf_download_has_headers_metadata_and_the_invoice_text(api: Api) -> None:
    invoice = _invoice(api)
    response = api.get(f"/invoices/{invoice['id']}/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="INV-0042.pdf"'
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["etag"].startswith('"')
    assert response.content.startswith(b"%PDF")
    text = _text(response.content)
    for expected in (
        "INV-0042",
        "Müller GmbH",
        "Web Development",
        "$5,500.00",
        "$5,000.00",
        "$500.00",
        "Seller Ltd",
        "Jun 1, 2024",
        "Jul 1, 2024",
        "Thank you for your business",
        "Payment due within 30 days",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    metadata = pypdf.PdfReader(io.BytesIO(response.content)).metadata
    assert metadata is not None
    assert metadata.title == "Invoice INV-0042"
    assert metadata.author == "Seller Ltd"
    assert metadata.creation_date is not None


def test_pdf_passes_a_structural_check(api: Api) -> None:
    invoice = _invoice(api)
    content = api.get(f"/invoices/{invoice['id']}/pdf").content
    with pikepdf.open(io.BytesIO(content)) as document:
        assert document.check_pdf_syntax() == []  # qpdf --check, through qpdf's own library


def test_two_hundred_lines_flow_onto_pages_with_header_and_page_numbers(api: Api) -> None:
    lines = [{"description": f"Item number {i:03d}", "quantity": 1, "unitPrice": 10, "taxRate": 0} for i in range(200)]
    invoice = _invoice(api, lines=lines)
    content = api.get(f"/invoices/{invoice['id']}/pdf").content
    reader = pypdf.PdfReader(io.BytesIO(content))
    pages = len(reader.pages)
    assert pages >= 3
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {pages}" in text
        assert "Description" in text and "Amount" in text  # the column header, repeated
    text = _text(content)
    assert all(f"Item number {i:03d}" in text for i in range(200))
    assert "$2,000.00" in text


def test_names_in_three_scripts_and_currency_signs_survive(api: Api) -> None:
    lines = [
        {"description": "Συμβουλευτικές υπηρεσίες — Ελλάδα", "quantity": 1, "unitPrice": 100, "taxRate": 0},
        {"description": "Поддержка, Москва", "quantity": 1, "unitPrice": 50, "taxRate": 0},
        {"description": "Fees in € and ₹ and ¥ – “quoted”", "quantity": 1, "unitPrice": 1, "taxRate": 0},
    ]
    invoice = _invoice(api, client_name="Łódź Sp. z o.o.", lines=lines, currency="INR")
    text = _text(api.get(f"/invoices/{invoice['id']}/pdf").content)
    for expected in (
        "Łódź Sp. z o.o.",
        "Συμβουλευτικές υπηρεσίες — Ελλάδα",
        "Поддержка, Москва",
        "Fees in € and ₹ and ¥ – “quoted”",
        "₹151.00",
    ):
        assert expected in text, expected


def test_characters_the_font_lacks_become_a_visible_replacement_not_an_error(api: Api) -> None:
    invoice = _invoice(api, lines=[{"description": "Tea 茶 and ☃", "quantity": 1, "unitPrice": 5}])
    response = api.get(f"/invoices/{invoice['id']}/pdf")
    assert response.status_code == 200
    assert "Tea" in _text(response.content)


def test_spanish_account_gets_spanish_labels_and_number_formats(api_es: Api) -> None:
    invoice = _invoice(api_es, currency="EUR")
    text = _text(api_es.get(f"/invoices/{invoice['id']}/pdf").content)
    for expected in ("FACTURA", "Facturar a".upper(), "5.500,00 €", "5.000,00 €", "Página 1 de 1", "1 jun 2024"):
        assert expected in text, expected


def test_yen_has_no_minor_unit_on_the_pdf(api: Api) -> None:
    invoice = _invoice(
        api, currency="JPY", lines=[{"description": "Consulting", "quantity": 1, "unitPrice": 5000, "taxRate": 10}]
    )
    assert "¥5,500" in _text(api.get(f"/invoices/{invoice['id']}/pdf").content)


def test_an_update_is_never_served_from_a_stale_pdf(api: Api) -> None:
    invoice = _invoice(api)
    first = api.get(f"/invoices/{invoice['id']}/pdf")
    assert "$5,500.00" in _text(first.content)
    response = api.client.patch(
        f"/api/v1/invoices/{invoice['id']}",
        json={"lineItems": [{"description": "Web Development", "quantity": 50, "unitPrice": 125.00, "taxRate": 10}]},
        headers=api.headers,
    )
    assert response.status_code == 200
    second = api.get(f"/invoices/{invoice['id']}/pdf")
    text = _text(second.content)
    assert "$6,875.00" in text and "$5,500.00" not in text
    assert second.headers["etag"] != first.headers["etag"]


def test_a_client_rename_shows_on_the_next_download(api: Api) -> None:
    invoice = _invoice(api)
    api.get(f"/invoices/{invoice['id']}/pdf")
    client_id = api.get(f"/invoices/{invoice['id']}").json()["data"]["clientId"]
    api.client.patch(f"/api/v1/clients/{client_id}", json={"name": "Müller AG"}, headers=api.headers)
    assert "Müller AG" in _text(api.get(f"/invoices/{invoice['id']}/pdf").content)


def test_matching_etag_gets_304_without_a_body(api: Api) -> None:
    invoice = _invoice(api)
    etag = api.get(f"/invoices/{invoice['id']}/pdf").headers["etag"]
    response = api.get(f"/invoices/{invoice['id']}/pdf", **{"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""


def test_deleting_the_invoice_removes_its_cached_pdf(api: Api, services: Services) -> None:
    invoice = _invoice(api)
    assert api.get(f"/invoices/{invoice['id']}/pdf").status_code == 200
    assert services.pdfs.cache.has(invoice["id"])
    assert api.client.delete(f"/api/v1/invoices/{invoice['id']}", headers=api.headers).status_code == 204
    assert not services.pdfs.cache.has(invoice["id"])
    response = api.get(f"/invoices/{invoice['id']}/pdf")
    assert response.status_code == 404
    assert "error" in response.json()


def test_another_accounts_or_an_unknown_invoice_pdf_is_404(api: Api, services: Services) -> None:
    invoice = _invoice(api)
    other = services.execute(lambda: services.app.open_account("Other", "pro"))
    _, key = services.execute(lambda: services.app.issue_api_key(other, "x"))
    response = api.client.get(f"/api/v1/invoices/{invoice['id']}/pdf", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 404
    assert api.get("/invoices/not-an-id/pdf").status_code == 404
    assert api.client.post(f"/api/v1/invoices/{invoice['id']}/pdf", headers=api.headers).status_code == 405


@pytest.mark.parametrize(
    ("number", "fallback", "encoded"),
    [
        ('INV "7"/2024', "INV _7__2024.pdf", "INV%20%227%22%2F2024.pdf"),
        ("FAKTURA-Łódź-1", "FAKTURA-_odz-1.pdf", "FAKTURA-%C5%81%C3%B3d%C5%BA-1.pdf"),
        ("..\\..\\etc", "_.._etc.pdf", "..%5C..%5Cetc.pdf"),
    ],
)
def test_odd_invoice_numbers_make_a_safe_filename(api: Api, number: str, fallback: str, encoded: str) -> None:
    invoice = _invoice(api, invoiceNumber=number)
    disposition = api.get(f"/invoices/{invoice['id']}/pdf").headers["content-disposition"]
    assert disposition == f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def test_the_worker_renders_in_the_background_and_resumes_from_its_position(services: Services) -> None:
    account = services.execute(lambda: services.app.open_account("Seller", "pro"))
    client = services.execute(lambda: services.app.create_client(account, {"name": "Acme"}))
    from domain.invoice import InvoiceDraft
    from domain.money import LineItemDraft

    draft = InvoiceDraft(client_id=client, line_items=[LineItemDraft("Work", Decimal(1), Decimal(10))])
    invoice = services.execute(lambda: services.app.create_invoice(account, draft))
    assert not services.pdfs.cache.has(str(invoice))
    assert services.pdf_worker.run_once() == 1
    assert services.pdfs.cache.has(str(invoice))
    assert services.pdf_worker.position() == services.projector.position()
    assert services.pdf_worker.run_once() == 0  # nothing new: nothing rendered twice


def _document(services: Services, description: str) -> InvoiceDocument:
    account = services.execute(lambda: services.app.open_account("Seller", "pro"))
    client = services.execute(lambda: services.app.create_client(account, {"name": "Acme"}))
    from domain.invoice import InvoiceDraft
    from domain.money import LineItemDraft

    draft = InvoiceDraft(client_id=client, line_items=[LineItemDraft(description, Decimal(1), Decimal(10))])
    invoice = services.execute(lambda: services.app.create_invoice(account, draft))
    detail = services.read.invoice(str(account), str(invoice))
    view = services.read.account(str(account))
    assert detail is not None and view is not None
    return InvoiceDocument(detail, services.read.client(str(account), str(client)), view)


def test_rendering_opens_no_connection_beyond_this_machine(services: Services) -> None:
    document = _document(services, "Offline work")
    _connections.clear()
    _recording[0] = True
    try:
        for _ in range(3):
            render(document)
    finally:
        _recording[0] = False
    assert [address for address in _connections if not _is_loopback(address)] == []


def test_the_audit_hook_would_see_an_outbound_connection() -> None:
    # The event socket.connect raises, raised by hand: no packet leaves this machine.
    _connections.clear()
    _recording[0] = True
    try:
        with socket.socket() as probe:
            sys.audit("socket.connect", probe, ("192.0.2.1", 443))
            sys.audit("socket.connect", probe, ("127.0.0.1", 8000))
    finally:
        _recording[0] = False
    assert [address for address in _connections if not _is_loopback(address)] == [("192.0.2.1", 443)]


def test_borbs_licence_reminder_never_reaches_our_output(services: Services, capfd: pytest.CaptureFixture[str]) -> None:
    document = _document(services, "Reminder check")
    capfd.readouterr()
    for _ in range(70):  # borb prints its reminder every 64 documents
        render(document)
    out, _ = capfd.readouterr()
    assert out == ""


def test_indexed_width_lookup_equals_borbs_own() -> None:
    from borb.pdf.font.adobe_glyph_list import AdobeGlyphList

    text = "Müller — Ελλάδα ₹ 0123456789 Łódź"
    font = fonts.font_for("regular", frozenset(text))
    descendant = font["DescendantFonts"][0]
    for sample in (text, "M", "ü ü", "₹₹ 1"):
        codes = [
            (font.get_character_code(ch), AdobeGlyphList.ADOBE_CHARACTER_TO_CHARACTER_NAME.get(ch, ".notdef"))
            for ch in sample
        ]
        for spacing in (0, 1.5):
            assert descendant.get_width(text=codes, font_size=12, word_spacing=spacing) == borb_get_width(
                descendant, codes, font_size=12, word_spacing=spacing
            )


def test_seller_details_appear_on_the_invoice(services: Services) -> None:
    account = services.execute(
        lambda: services.app.open_account(
            "Taller Müller SL", "pro", "es", {"address": "Calle Mayor 1\n28013 Madrid", "tax_id": "ESB1234567"}
        )
    )
    _, key = services.execute(lambda: services.app.issue_api_key(account, "k"))
    with TestClient(create_app(services.settings, services), raise_server_exceptions=False) as client:
        invoice = _invoice(Api(client, key), currency="EUR")
        before = Api(client, key).get(f"/invoices/{invoice['id']}/pdf")
        text = _text(before.content)
        for expected in ("Taller Müller SL", "Calle Mayor 1", "28013 Madrid", "NIF: ESB1234567"):
            assert expected in text, expected
        services.execute(lambda: services.app.update_account(account, {"phone": "+34 600 000 000"}))
        after = Api(client, key).get(f"/invoices/{invoice['id']}/pdf")
        assert "+34 600 000 000" in _text(after.content)
        assert after.headers["etag"] != before.headers["etag"]


def test_every_glyph_advances_by_its_width_in_the_font() -> None:
    # borb left glyphs without an Adobe name (₹ is 'uni20B9') at width 0: drawn on top of the next.
    from fontTools.ttLib import TTFont

    source = TTFont(str(fonts.FILES["regular"]))
    units, advances, cmap = source["head"].unitsPerEm, source["hmtx"].metrics, source.getBestCmap()
    for ch in "₹€Ελλάδα—Łódź":
        expected = advances[cmap[ord(ch)]][0] / units * 1000
        font = fonts.font_for("regular", frozenset(ch))
        assert font.get_width(ch, font_size=1000) == pytest.approx(expected, abs=1), ch


def test_rupee_sign_survives_on_an_otherwise_ascii_invoice(api: Api) -> None:
    invoice = _invoice(
        api,
        client_name="Acme",
        currency="INR",
        lines=[{"description": "Consulting", "quantity": 1, "unitPrice": 1000, "taxRate": 0}],
    )
    assert "₹1,000.00" in _text(api.get(f"/invoices/{invoice['id']}/pdf").content)


def test_bytes_rendered_for_a_deleted_invoice_are_not_kept(services: Services) -> None:
    document = _document(services, "Late render")
    invoice_id = document.invoice.id
    services.execute(lambda: services.app.delete_invoice(UUID(document.account.id), UUID(invoice_id)))
    services.pdfs.cache.put(invoice_id, "key", render(document))  # a render that finished after the delete
    assert not services.pdfs.cache.has(invoice_id)


def test_the_render_key_follows_what_the_pdf_shows() -> None:
    from dataclasses import replace

    from pdf.service import render_key

    invoice = InvoiceDetail(
        id="i",
        account_id="a",
        client_id="c",
        invoice_number="INV-1",
        currency="USD",
        issue_date=date(2024, 1, 1),
        due_date=date(2024, 1, 31),
        subtotal=Decimal(1),
        tax_total=Decimal(0),
        discount_total=Decimal(0),
        total=Decimal(1),
        status="DRAFT",
        created_at=NOW,
        updated_at=NOW,
        client_name="Old name",
        client_email=None,
        line_items=[],
        notes=None,
        terms=None,
        sent_via_email=False,
        sent_at=None,
        paid_at=None,
        version=1,
    )
    account = AccountView(id="a", name="Seller", plan="pro", locale="en", created_at=NOW, updated_at=NOW)
    before = render_key(InvoiceDocument(invoice, None, account))
    # same version and timestamps, another denormalised client name: another key
    assert render_key(InvoiceDocument(replace(invoice, client_name="New name"), None, account)) != before
    assert render_key(InvoiceDocument(invoice, None, account)) == before
