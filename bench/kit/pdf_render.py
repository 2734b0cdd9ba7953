"""``bench/pdf.py --only render``: milliseconds per invoice PDF, our borb renderer (warm and
cold) against reportlab's platypus with the same DejaVu font, then ``GET /pdf`` from the
cache against ``GET /invoices/{id}`` through the real ASGI app."""

import io
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable

from bench.kit.pdf_sample import invoice
from pdf import fonts
from pdf.document import InvoiceDocument
from pdf.formats import Formats
from pdf.layout import render


def reportlab_renderer() -> Callable[[InvoiceDocument], bytes]:
    """reportlab's platypus rendering of the same invoice. Imported here, not at the top,
    so the RSS child process loads only our renderer."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(TTFont("DejaVu", str(fonts.FILES["regular"])))
    pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(fonts.FILES["bold"])))
    body_style = ParagraphStyle("body", fontName="DejaVu", fontSize=9, leading=11)
    bold_style = ParagraphStyle("bold", parent=body_style, fontName="DejaVu-Bold")

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
            Paragraph(source.account.name, bold_style),
            Paragraph("INVOICE " + inv.invoice_number, bold_style),
            Paragraph(f"Issue date: {f.date(inv.issue_date)}  Due date: {f.date(inv.due_date)}", body_style),
            Spacer(1, 12),
            Paragraph("Bill to", bold_style),
        ]
        story += [Paragraph(line, body_style) for line in source.client_lines("Tax ID")] + [Spacer(1, 12)]
        rows = [["Description", "Qty", "Unit price", "Tax", "Amount"]] + [
            [
                Paragraph(li.description, body_style),
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
            Paragraph(inv.notes or "", body_style),
            Paragraph(inv.terms or "", body_style),
        ]
        SimpleDocTemplate(out, pagesize=A4, title=source.title, author=source.account.name).build(
            story, canvasmaker=NumberedCanvas
        )
        return out.getvalue()

    return reportlab


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
    try:
        services = Services(
            Settings.from_env({"CLEVERINVO_DATA_DIR": folder, "CLEVERINVO_RATE_LIMIT": "100000/minute"})
        )
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
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return pdf, detail


def bench_render() -> None:
    import pypdf

    reportlab = reportlab_renderer()
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
