"""Invoice PDFs end to end: the cache, the worker and the download headers."""

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from gateway.services import Services
from gateway.settings import Settings
from pdf.document import InvoiceDocument
from pdf.layout import render
from projections.views import AccountView, InvoiceDetail
from tests.pdf_support import Api, make_document, make_invoice, pdf_text, seller_api

NOW = datetime(2024, 1, 1)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    core = Services(Settings.from_env({"CLEVERINVO_DATA_DIR": str(tmp_path)}))
    yield core
    core.close()


@pytest.fixture
def api(services: Services) -> Iterator[Api]:
    yield from seller_api(services)


def test_an_update_is_never_served_from_a_stale_pdf(api: Api) -> None:
    invoice = make_invoice(api)
    first = api.get(f"/invoices/{invoice['id']}/pdf")
    assert "$5,500.00" in pdf_text(first.content)
    response = api.client.patch(
        f"/api/v1/invoices/{invoice['id']}",
        json={"lineItems": [{"description": "Web Development", "quantity": 50, "unitPrice": 125.00, "taxRate": 10}]},
        headers=api.headers,
    )
    assert response.status_code == 200
    second = api.get(f"/invoices/{invoice['id']}/pdf")
    text = pdf_text(second.content)
    assert "$6,875.00" in text and "$5,500.00" not in text
    assert second.headers["etag"] != first.headers["etag"]


def test_a_client_rename_shows_on_the_next_download(api: Api) -> None:
    invoice = make_invoice(api)
    api.get(f"/invoices/{invoice['id']}/pdf")
    client_id = api.get(f"/invoices/{invoice['id']}").json()["data"]["clientId"]
    api.client.patch(f"/api/v1/clients/{client_id}", json={"name": "Müller AG"}, headers=api.headers)
    assert "Müller AG" in pdf_text(api.get(f"/invoices/{invoice['id']}/pdf").content)


def test_matching_etag_gets_304_without_a_body(api: Api) -> None:
    invoice = make_invoice(api)
    etag = api.get(f"/invoices/{invoice['id']}/pdf").headers["etag"]
    response = api.get(f"/invoices/{invoice['id']}/pdf", **{"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""


def test_deleting_the_invoice_removes_its_cached_pdf(api: Api, services: Services) -> None:
    invoice = make_invoice(api)
    assert api.get(f"/invoices/{invoice['id']}/pdf").status_code == 200
    assert services.pdfs.store.has(invoice["id"])
    assert api.client.delete(f"/api/v1/invoices/{invoice['id']}", headers=api.headers).status_code == 204
    assert not services.pdfs.store.has(invoice["id"])
    response = api.get(f"/invoices/{invoice['id']}/pdf")
    assert response.status_code == 404
    assert "error" in response.json()


def test_another_accounts_or_an_unknown_invoice_pdf_is_404(api: Api, services: Services) -> None:
    invoice = make_invoice(api)
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
    invoice = make_invoice(api, invoiceNumber=number)
    disposition = api.get(f"/invoices/{invoice['id']}/pdf").headers["content-disposition"]
    assert disposition == f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def test_the_worker_renders_in_the_background_and_resumes_from_its_position(services: Services) -> None:
    account = services.execute(lambda: services.app.open_account("Seller", "pro"))
    client = services.execute(lambda: services.app.create_client(account, {"name": "Acme"}))
    from domain.invoice import InvoiceDraft
    from domain.money import LineItemDraft

    draft = InvoiceDraft(client_id=client, line_items=[LineItemDraft("Work", Decimal(1), Decimal(10))])
    invoice = services.execute(lambda: services.app.create_invoice(account, draft))
    assert not services.pdfs.store.has(str(invoice))
    assert services.pdf_worker().run_once(budget_seconds=60) == 1
    assert services.pdfs.store.has(str(invoice))
    assert services.pdf_worker().position() == services.projector.position()
    assert services.pdf_worker().run_once(budget_seconds=60) == 0  # nothing new: nothing rendered twice


def test_bytes_rendered_for_a_deleted_invoice_are_not_kept(services: Services) -> None:
    document = make_document(services, "Late render")
    invoice_id = document.invoice.id
    services.execute(lambda: services.app.delete_invoice(UUID(document.account.id), UUID(invoice_id)))
    services.pdfs.store.put(invoice_id, "key", render(document))  # a render that finished after the delete
    assert not services.pdfs.store.has(invoice_id)


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


def test_what_the_key_leaves_out_is_never_drawn(services: Services) -> None:
    """pdf/service.py's UNDRAWN: an email delivered or a share link opened serves the PDF
    already rendered. Changing every such field leaves the page as it was, and its key."""
    from dataclasses import replace

    from pdf.service import UNDRAWN, render_key

    document = make_document(services, "Consulting")
    later = datetime(2031, 5, 6, 7, 8, 9)
    invoice = replace(
        document.invoice,
        created_at=later,
        updated_at=later,
        version=99,
        viewed_at=later,
        email_status="failed",
        email_reply="550 No such user here",
        sent_via_email=True,
        sent_at=later,
        paid_at=later,
        overdue_at=later,
        voided_at=later,
    )
    changed = {name for name in UNDRAWN if getattr(invoice, name) != getattr(document.invoice, name)}
    assert changed == UNDRAWN  # every field the key leaves out is changed here
    assert document.account is not None and document.client is not None
    other = InvoiceDocument(
        invoice,
        replace(document.client, created_at=later, updated_at=later),
        replace(document.account, created_at=later, updated_at=later),
    )
    assert render_key(other) == render_key(document)
    assert pdf_text(render(other)) == pdf_text(render(document))
    assert render_key(replace(document, invoice=replace(document.invoice, status="PAID"))) != render_key(document)
