"""The invoice every PDF part renders: a seller, a client with address and tax id, ``lines``
line items, totals, notes and terms (``invoice(10)`` is one page, ``invoice(140)`` five)."""

from datetime import date, datetime
from decimal import Decimal

from pdf.document import InvoiceDocument
from projections.views import AccountView, ClientView, InvoiceDetail, LineView

NOW = datetime(2024, 6, 1)


def invoice(lines: int, word: str = "Development") -> InvoiceDocument:
    items = [
        LineView(f"Web {word} sprint {i + 1}", Decimal(40), Decimal("125.00"), Decimal(10), Decimal("5000.00"))
        for i in range(lines)
    ]
    subtotal = Decimal("5000.00") * lines
    detail = InvoiceDetail(
        id="bench",
        account_id="a",
        client_id="c",
        invoice_number="INV-0042",
        currency="USD",
        issue_date=date(2024, 6, 1),
        due_date=date(2024, 7, 1),
        subtotal=subtotal,
        tax_total=subtotal / 10,
        discount_total=Decimal("0.00"),
        total=subtotal * Decimal("1.1"),
        status="DRAFT",
        created_at=NOW,
        updated_at=NOW,
        client_name="Müller GmbH",
        client_email="billing@mueller.test",
        line_items=items,
        notes="Thank you for your business",
        terms="Payment due within 30 days",
        sent_via_email=False,
        sent_at=None,
        paid_at=None,
        version=1,
    )
    client = ClientView(
        id="c",
        name="Müller GmbH",
        email="billing@mueller.test",
        address="Hauptstraße 1, Berlin",
        tax_id="DE123456789",
        phone=None,
        notes=None,
        is_active=True,
        created_at=NOW,
        updated_at=NOW,
    )
    return InvoiceDocument(
        detail, client, AccountView(id="a", name="Seller Ltd", plan="pro", locale="en", updated_at=NOW, created_at=NOW)
    )
