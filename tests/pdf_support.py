"""Helpers for the PDF tests: an app on a real data directory, text read back with pypdf
(and, with positions, from the content stream), pages as pixels, and an audit hook that
records outbound connections."""

import io
import ipaddress
import re
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pikepdf
import pypdf
from starlette.testclient import TestClient

from domain.invoice import InvoiceDraft
from domain.money import LineItemDraft, price_lines
from gateway.app import create_app
from gateway.services import Services
from pdf.document import InvoiceDocument
from pdf.layout import LEFT, PAD, item_columns
from projections.views import AccountView, ClientView, InvoiceDetail, LineView

# --- an audit hook that records every outbound connection (it cannot be removed, so it
# --- only records while a test switches it on)
connections: list[Any] = []
recording = [False]


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect" and recording[0]:
        connections.append(args[1])


sys.addaudithook(_audit)


def is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return isinstance(address, (str, bytes))  # a unix socket path stays on this machine


def pdf_text(content: bytes) -> str:
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


def seller_api(services: Services, locale: str = "en", name: str = "Seller Ltd") -> Iterator[Api]:
    account = services.execute(lambda: services.app.open_account(name, "business", locale))
    _, key = services.execute(lambda: services.app.issue_api_key(account, "test"))
    with TestClient(create_app(services.settings, services), raise_server_exceptions=False) as client:
        yield Api(client, key)


def make_invoice(
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


def make_document(services: Services, description: str) -> InvoiceDocument:
    account = services.execute(lambda: services.app.open_account("Seller", "pro"))
    client = services.execute(lambda: services.app.create_client(account, {"name": "Acme"}))
    draft = InvoiceDraft(client_id=client, line_items=[LineItemDraft(description, Decimal(1), Decimal(10))])
    invoice = services.execute(lambda: services.app.create_invoice(account, draft))
    detail = services.read.invoice(str(account), str(invoice))
    view = services.read.account(str(account))
    assert detail is not None and view is not None
    return InvoiceDocument(detail, services.read.client(str(account), str(client)), view)


def priced_document(
    lines: list[LineItemDraft],
    locale: str = "en",
    currency: str = "EUR",
    client: ClientView | None = None,
    seller: dict[str, str | None] | None = None,
) -> InvoiceDocument:
    """An invoice priced by the domain's own rules, without a store: for property tests
    that render hundreds of invoices."""
    priced, totals = price_lines(lines, currency)
    moment = datetime(2024, 6, 1, tzinfo=UTC)
    detail = InvoiceDetail(
        id="i",
        account_id="a",
        client_id="c",
        invoice_number="INV-0042",
        currency=currency,
        issue_date=date(2024, 6, 1),
        due_date=date(2024, 7, 1),
        subtotal=totals.subtotal,
        tax_total=totals.tax_total,
        discount_total=totals.discount_total,
        total=totals.total,
        status="SENT",
        created_at=moment,
        updated_at=moment,
        client_name=client.name if client else "Acme",
        client_email=None,
        line_items=[
            LineView(
                line.description,
                line.quantity,
                line.unit_price,
                line.tax_rate,
                line.amount,
                line.discount_rate,
                line.discount,
            )
            for line in priced
        ],
        notes=None,
        terms=None,
        sent_via_email=False,
        sent_at=None,
        paid_at=None,
        version=1,
    )
    account = AccountView("a", "Vendedor SL", "pro", locale, moment, moment, **(seller or {}))
    return InvoiceDocument(detail, client, account)


def app_document(
    services: Services,
    lines: list[LineItemDraft],
    locale: str = "en",
    client: dict[str, str | None] | None = None,
    seller: dict[str, str | None] | None = None,
    currency: str = "EUR",
) -> InvoiceDocument:
    """An invoice made by the application's own commands on a real store, as its PDF shows it."""
    account = services.execute(lambda: services.app.open_account("Vendedor SL", "pro", locale, seller))
    client_id = services.execute(lambda: services.app.create_client(account, client or {"name": "Acme"}))
    draft = InvoiceDraft(client_id=client_id, line_items=lines, invoice_number="INV-0042", currency=currency)
    invoice = services.execute(lambda: services.app.create_invoice(account, draft))
    return document_of(services, str(invoice))


def document_of(services: Services, invoice_id: str) -> InvoiceDocument:
    """What the PDF of an invoice made through the API shows, read back from the read model."""
    account_id = services.read.invoice_account(invoice_id)
    assert account_id is not None
    invoice, account = services.read.invoice(account_id, invoice_id), services.read.account(account_id)
    assert invoice is not None and account is not None
    return InvoiceDocument(invoice, services.read.client(account_id, invoice.client_id), account)


def description_right(services: Services, invoice_id: str) -> float:
    """Where the description column's text must end on that invoice's PDF."""
    return LEFT + item_columns(document_of(services, invoice_id))[0] - PAD


# --- what a page draws, read from its content stream (pypdf's extract_text re-reverses
# --- right-to-left runs by its own rule, so order and positions are checked here)


@dataclass(frozen=True)
class Drawn:
    """One text-showing operator: its text (through the font's ToUnicode map), where its
    baseline starts, its font size, and its glyph ids."""

    text: str
    x: float
    y: float
    size: float
    glyphs: tuple[int, ...]
    width: float = 0.0  # the advance of its glyphs, by the widths the font declares

    @property
    def right(self) -> float:
        return self.x + self.width


def _to_unicode(font: Any) -> dict[int, str]:
    mapping: dict[int, str] = {}
    data = font.ToUnicode.read_bytes().decode("latin-1")
    for code, target in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", data.split("endcodespacerange", 1)[-1]):
        mapping[int(code, 16)] = bytes.fromhex(target).decode("utf-16-be")
    return mapping


def _widths(font: Any) -> dict[int, float]:
    """A composite font's glyph widths (its descendant's W array), in thousandths of an em."""
    descendant = font.DescendantFonts[0]
    entries = list(descendant.get("/W", []))
    widths: dict[int, float] = {}
    i = 0
    while i < len(entries):
        first = int(entries[i])
        if isinstance(entries[i + 1], pikepdf.Array):
            widths.update({first + k: float(w) for k, w in enumerate(entries[i + 1])})
            i += 2
        else:
            widths.update({cid: float(entries[i + 2]) for cid in range(first, int(entries[i + 1]) + 1)})
            i += 3
    return widths


def drawn_text(content: bytes) -> list[list[Drawn]]:
    """Per page, every piece of text drawn (our renderer sets a Tm before each TJ)."""
    pages: list[list[Drawn]] = []
    with pikepdf.open(io.BytesIO(content)) as document:
        for page in document.pages:
            maps = {str(key): _to_unicode(font) for key, font in page.Resources.Font.items()}
            widths = {str(key): _widths(font) for key, font in page.Resources.Font.items()}
            found: list[Drawn] = []
            font, size, x, y = "", 0.0, 0.0, 0.0
            for instruction in pikepdf.parse_content_stream(page):
                operands, operator = instruction.operands, instruction.operator
                if operator == pikepdf.Operator("Tf"):
                    font = str(operands[0])
                elif operator == pikepdf.Operator("Tm"):
                    size, x, y = float(operands[0]), float(operands[4]), float(operands[5])
                elif operator == pikepdf.Operator("TJ"):
                    raw = b"".join(bytes(part) for part in operands[0] if isinstance(part, pikepdf.String))
                    glyphs = tuple(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))
                    text = "".join(maps[font].get(glyph, "\ufffd") for glyph in glyphs)
                    width = sum(widths[font].get(glyph, 1000) for glyph in glyphs) / 1000 * size
                    found.append(Drawn(text, x, y, size, glyphs, width))
            pages.append(found)
    return pages


# --- a page as grey pixels, through poppler's pdftoppm


@dataclass(frozen=True)
class Gray:
    width: int
    height: int
    pixels: bytes
    dpi: int

    def ink(self, left: float, bottom: float, right: float, top: float, darker_than: int = 160) -> int:
        """Pixels darker than ``darker_than`` in a box given in PDF points (origin bottom left)."""
        scale = self.dpi / 72
        x0, x1 = max(0, int(left * scale)), min(self.width, int(right * scale) + 1)
        y0, y1 = max(0, int(self.height - top * scale)), min(self.height, int(self.height - bottom * scale) + 1)
        return sum(
            1
            for row in range(y0, y1)
            for value in self.pixels[row * self.width + x0 : row * self.width + x1]
            if value < darker_than
        )


def page_gray(content: bytes, page: int = 1, dpi: int = 144) -> Gray:
    """The page rendered by ``pdftoppm -gray`` (a binary PGM, parsed here: no Pillow needed)."""
    with tempfile.TemporaryDirectory(prefix="cleverinvo-png-") as folder:
        path = Path(folder) / "invoice.pdf"
        path.write_bytes(content)
        result = subprocess.run(
            ["pdftoppm", "-gray", "-r", str(dpi), "-f", str(page), "-l", str(page), str(path)],
            capture_output=True,
            check=True,
        )
    data = result.stdout
    fields: list[bytes] = []
    offset = 0
    while len(fields) < 4:  # magic, width, height, maximum value; then one whitespace byte
        while data[offset : offset + 1].isspace():
            offset += 1
        end = offset
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[offset:end])
        offset = end
    assert fields[0] == b"P5", fields[0]
    width, height = int(fields[1]), int(fields[2])
    pixels = data[offset + 1 : offset + 1 + width * height]
    assert len(pixels) == width * height
    return Gray(width, height, pixels, dpi)


def no_space(text: str) -> str:
    """NFKC (Arabic presentation forms back to letters) without any whitespace: line breaks
    put newlines or spaces where the input had none, and take spaces away at line ends."""
    return "".join(unicodedata.normalize("NFKC", text).split())
