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
from decimal import Decimal
from pathlib import Path
from typing import Any

import pikepdf
import pypdf
from starlette.testclient import TestClient

from domain.invoice import InvoiceDraft
from domain.money import LineItemDraft
from gateway.app import create_app
from gateway.services import Services
from pdf.document import InvoiceDocument

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


def _to_unicode(font: Any) -> dict[int, str]:
    mapping: dict[int, str] = {}
    data = font.ToUnicode.read_bytes().decode("latin-1")
    for code, target in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", data.split("endcodespacerange", 1)[-1]):
        mapping[int(code, 16)] = bytes.fromhex(target).decode("utf-16-be")
    return mapping


def drawn_text(content: bytes) -> list[list[Drawn]]:
    """Per page, every piece of text drawn (our renderer sets a Tm before each TJ)."""
    pages: list[list[Drawn]] = []
    with pikepdf.open(io.BytesIO(content)) as document:
        for page in document.pages:
            maps = {str(key): _to_unicode(font) for key, font in page.Resources.Font.items()}
            found: list[Drawn] = []
            font, size, x, y = "", 0.0, 0.0, 0.0
            for operands, operator in pikepdf.parse_content_stream(page):
                if operator == pikepdf.Operator("Tf"):
                    font = str(operands[0])
                elif operator == pikepdf.Operator("Tm"):
                    size, x, y = float(operands[0]), float(operands[4]), float(operands[5])
                elif operator == pikepdf.Operator("TJ"):
                    raw = b"".join(bytes(part) for part in operands[0] if isinstance(part, pikepdf.String))
                    glyphs = tuple(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))
                    text = "".join(maps[font].get(glyph, "\ufffd") for glyph in glyphs)
                    found.append(Drawn(text, x, y, size, glyphs))
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
