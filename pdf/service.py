"""Invoice PDFs for the doors: served from the cache, rendered when the cache lacks them."""

import hashlib
import threading
from dataclasses import dataclass

from pdf.document import InvoiceDocument
from pdf.layout import render
from projections.pdf_cache import PdfCache
from projections.queries import ReadModel

# Part of every render key: a layout change makes every cached PDF stale.
LAYOUT_VERSION = "2"


@dataclass(frozen=True)
class InvoicePdf:
    content: bytes
    etag: str
    invoice_number: str


def render_key(source: InvoiceDocument) -> str:
    """A digest of everything the PDF shows. Computed from the very records that were
    rendered, so bytes can never be cached under the key of a newer state than they show
    (the invoice, client and account rows are read one after another)."""
    return hashlib.sha256(f"{LAYOUT_VERSION}\x1f{source!r}".encode()).hexdigest()


class InvoicePdfs:
    def __init__(self, read: ReadModel, cache: PdfCache) -> None:
        self.read = read
        self.cache = cache
        # borb's fonts and documents are not made for concurrent use; one render at a time.
        self._render_lock = threading.Lock()

    def _source(self, account_id: str, invoice_id: str) -> InvoiceDocument | None:
        invoice = self.read.invoice(account_id, invoice_id)
        account = self.read.account(account_id)
        if invoice is None or account is None:
            return None
        return InvoiceDocument(invoice, self.read.client(account_id, invoice.client_id), account)

    def get(self, account_id: str, invoice_id: str) -> InvoicePdf | None:
        """The current PDF of the invoice, or None if the account has no such invoice."""
        source = self._source(account_id, invoice_id)
        if source is None:
            return None
        key = render_key(source)
        content = self.cache.get(invoice_id, key)
        if content is None:
            content = self._render(source, key)
        return InvoicePdf(content, f'"{key[:32]}"', source.invoice.invoice_number)

    def refresh(self, invoice_id: str) -> None:
        """Renders the invoice's current version into the cache unless it is there already."""
        account_id = self.read.invoice_account(invoice_id)
        source = self._source(account_id, invoice_id) if account_id else None
        if source is None:
            self.cache.discard(invoice_id)
            return
        key = render_key(source)
        if self.cache.get(invoice_id, key) is None:
            self._render(source, key)

    def discard(self, invoice_id: str) -> None:
        self.cache.discard(invoice_id)

    def _render(self, source: InvoiceDocument, key: str) -> bytes:
        with self._render_lock:
            content = render(source)
        self.cache.put(source.invoice.id, key, content)
        return content
