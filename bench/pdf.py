"""Milliseconds per invoice PDF: our borb renderer against reportlab, in the same run.

Run by hand: python bench/pdf.py   (needs the bench extra: pip install -e ".[bench]")
Reports, for a 1-page (10 lines) and a 5-page invoice, our renderer warm (font subset
cached for the invoice's characters) and cold (a new character set), reportlab with the
same DejaVu font embedded, and the ratios; then GET /pdf served from the cache against
GET /invoices/{id} through the real ASGI app.
"""

import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pypdf  # noqa: E402
from reportlab.lib import colors  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # noqa: E402

from pdf import fonts  # noqa: E402
from pdf.document import InvoiceDocument  # noqa: E402
from pdf.formats import Formats  # noqa: E402
from pdf.layout import render  # noqa: E402
from projections.views import AccountView, ClientView, InvoiceDetail, LineView  # noqa: E402

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


pdfmetrics.registerFont(TTFont("DejaVu", str(fonts.FILES["regular"])))
pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(fonts.FILES["bold"])))
BODY = ParagraphStyle("body", fontName="DejaVu", fontSize=9, leading=11)
BOLD = ParagraphStyle("bold", parent=BODY, fontName="DejaVu-Bold")


class NumberedCanvas(canvas.Canvas):
    """reportlab's usual two-pass recipe for 'Page i of n'."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._states: list[dict[str, object]] = []

    def showPage(self) -> None:  # noqa: N802
        self._states.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        for state in self._states:
            self.__dict__.update(state)
            self.setFont("DejaVu", 8)
            self.drawRightString(545, 25, f"Page {self._pageNumber} of {len(self._states)}")
            super().showPage()
        super().save()


def reportlab(source: InvoiceDocument) -> bytes:
    inv, f = source.invoice, Formats("en")
    out = io.BytesIO()
    story: list[object] = [
        Paragraph(source.account.name, BOLD),
        Paragraph("INVOICE " + inv.invoice_number, BOLD),
        Paragraph(f"Issue date: {f.date(inv.issue_date)}  Due date: {f.date(inv.due_date)}", BODY),
        Spacer(1, 12),
        Paragraph("Bill to", BOLD),
    ]
    story += [Paragraph(line, BODY) for line in source.client_lines("Tax ID")] + [Spacer(1, 12)]
    rows = [["Description", "Qty", "Unit price", "Tax", "Amount"]] + [
        [
            Paragraph(li.description, BODY),
            f.number(li.quantity),
            f.money(li.unit_price, inv.currency),
            f.percent(li.tax_rate),
            f.money(li.amount, inv.currency),
        ]
        for li in inv.line_items
    ]
    table = Table(rows, colWidths=[215, 45, 85, 50, 100], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "DejaVu", 9),
                ("FONT", (0, 0), (-1, 0), "DejaVu-Bold", 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.lightgrey),
            ]
        )
    )
    totals = Table(
        [
            ["Subtotal", f.money(inv.subtotal, inv.currency)],
            ["Tax", f.money(inv.tax_total, inv.currency)],
            ["Total", f.money(inv.total, inv.currency)],
        ],
        colWidths=[110, 140],
        hAlign="RIGHT",
    )
    totals.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "DejaVu", 9), ("ALIGN", (1, 0), (1, -1), "RIGHT")]))
    story += [
        table,
        Spacer(1, 12),
        totals,
        Spacer(1, 12),
        Paragraph(inv.notes or "", BODY),
        Paragraph(inv.terms or "", BODY),
    ]
    SimpleDocTemplate(out, pagesize=A4, title=source.title, author=source.account.name).build(
        story, canvasmaker=NumberedCanvas
    )
    return out.getvalue()


def ms_per_call(work: Callable[[], object], repeat: int) -> float:
    work()  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def cold_ms(lines: int) -> float:
    """A character set never seen before: the font subset is made and parsed too."""
    times = []
    for i in range(3):
        fresh = invoice(lines, word=f"Devęlopment{'ąćęłńóśźż'[i : i + 3]}{i}")
        start = time.perf_counter()
        render(fresh)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def http_ms() -> tuple[float, float]:
    from starlette.testclient import TestClient

    from gateway.app import create_app
    from gateway.services import Services
    from gateway.settings import Settings

    folder = tempfile.mkdtemp(prefix="cleverinvo-bench-")
    services = Services(Settings.from_env({"CLEVERINVO_DATA_DIR": folder, "CLEVERINVO_RATE_LIMIT": "100000/minute"}))
    account = services.execute(lambda: services.app.open_account("Bench", "business"))
    _, key = services.execute(lambda: services.app.issue_api_key(account))
    auth = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(services.settings, services)) as client:
        client_id = client.post("/api/v1/clients", json={"name": "Acme"}, headers=auth).json()["data"]["id"]
        body = {"clientId": client_id, "lineItems": [{"description": "Work", "quantity": 1, "unitPrice": 10}] * 10}
        invoice_id = client.post("/api/v1/invoices", json=body, headers=auth).json()["data"]["id"]
        client.get(f"/api/v1/invoices/{invoice_id}/pdf", headers=auth)  # fills the cache
        pdf = ms_per_call(lambda: client.get(f"/api/v1/invoices/{invoice_id}/pdf", headers=auth), 200)
        detail = ms_per_call(lambda: client.get(f"/api/v1/invoices/{invoice_id}", headers=auth), 200)
    services.close()
    return pdf, detail


def main() -> None:
    print(f"{'case':<22}{'ours warm':>11}{'ours cold':>11}{'reportlab':>11}{'ratio warm':>12}{'pages':>7}")
    for label, lines in (("1 page, 10 lines", 10), ("5 pages, 140 lines", 140)):
        source = invoice(lines)
        pages = len(pypdf.PdfReader(io.BytesIO(render(source))).pages)
        ours = ms_per_call(lambda source=source: render(source), 20)
        cold = cold_ms(lines)
        theirs = ms_per_call(lambda source=source: reportlab(source), 20)
        print(f"{label:<22}{ours:>9.1f}ms{cold:>9.1f}ms{theirs:>9.1f}ms{ours / theirs:>11.1f}x{pages:>7}")
    pdf, detail = http_ms()
    print(f"GET /pdf from cache {pdf:.2f} ms; GET /invoices/{{id}} {detail:.2f} ms; ratio {pdf / detail:.2f}x")


if __name__ == "__main__":
    main()
