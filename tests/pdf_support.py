"""Helpers for the PDF tests: an app on a real data directory, text read back with pypdf,
and an audit hook that records outbound connections."""

import io
import ipaddress
import sys
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

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
