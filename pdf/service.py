"""Invoice PDFs for the doors: served from the cache, rendered once when the cache lacks them."""

import contextlib
import dataclasses
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from database.faults import storage_full
from pdf.document import InvoiceDocument
from pdf.layout import render
from pdf.store import PdfStore
from projections.queries import ReadModel
from projections.views import AccountView, ClientView, InvoiceDetail
from storage.process_names import process_name

# Part of every render key: a layout change makes every cached PDF stale.
LAYOUT_VERSION = "4"
# How long a render may hold its claim before others presume it stuck and render too.
CLAIM_SECONDS = 30.0
# A claim runs out this soon unless its holder's heartbeat renews it (a third of it at a
# time): a holder on another host that died is presumed so within these seconds. On this
# host a dead holder is seen at once (storage/process_names.py).
CLAIM_TTL_SECONDS = 6.0
POLL_SECONDS = 0.05
log = logging.getLogger("cleverinvo.pdf")


@dataclass(frozen=True)
class InvoicePdf:
    content: bytes
    etag: str
    invoice_number: str


# What the records keep that no page draws (pdf/layout.py never reads them): left out of the
# key, so an event that changes only these (an email delivered, the share link opened, any
# event's new version and time) serves the PDF already rendered instead of rendering it again.
# A field the layout starts to draw must leave this list (tests/integration/test_pdf_cache.py).
UNDRAWN = frozenset(
    {
        "created_at",
        "updated_at",
        "version",
        "viewed_at",
        "email_status",
        "email_reply",
        "sent_via_email",
        "sent_at",
        "paid_at",
        "overdue_at",
        "voided_at",
    }
)


def _drawn(record: Any) -> Any:
    if record is None:
        return None
    return [(f.name, getattr(record, f.name)) for f in dataclasses.fields(record) if f.name not in UNDRAWN]


def render_key(source: InvoiceDocument) -> str:
    """A digest of everything the PDF shows. Computed from the very records that were
    rendered, so bytes can never be cached under the key of a newer state than they show
    (the invoice, client and account rows are read one after another)."""
    shown = (_drawn(source.invoice), _drawn(source.client), _drawn(source.account), source.share_url)
    return hashlib.sha256(f"{LAYOUT_VERSION}\x1f{shown!r}".encode()).hexdigest()


def etag(source: InvoiceDocument, key: str | None = None) -> str:
    """The strong ETag of what ``source`` renders to: known before rendering it."""
    return f'"{(key or render_key(source))[:32]}"'


class InvoicePdfs:
    def __init__(
        self,
        read: ReadModel,
        store: PdfStore,
        renderer: Callable[[InvoiceDocument], bytes] = render,
        claim_seconds: float = CLAIM_SECONDS,
        public_url: str | None = None,
    ) -> None:
        self.read = read
        self.public_url = (public_url or "").rstrip("/")
        self.store = store
        self.renderer = renderer
        self.claim_seconds = claim_seconds
        self.owner = process_name()
        self.rendered = 0  # renders done by this process: for tests and the bench
        # borb's fonts and documents are not made for concurrent use; one render at a time.
        self._render_lock = threading.Lock()

    def document(self, invoice: InvoiceDetail, client: ClientView | None, account: AccountView) -> InvoiceDocument:
        link = f"{self.public_url}/i/{invoice.share_token}" if self.public_url and invoice.share_token else None
        return InvoiceDocument(invoice, client, account, link)

    def _source(self, account_id: str, invoice_id: str) -> InvoiceDocument | None:
        invoice = self.read.invoice(account_id, invoice_id)
        account = self.read.account(account_id)
        if invoice is None or account is None:
            return None
        return self.document(invoice, self.read.client(account_id, invoice.client_id), account)

    def get(self, account_id: str, invoice_id: str) -> InvoicePdf | None:
        """The current PDF of the invoice, or None if the account has no such invoice.

        A version nobody has rendered yet is rendered here, once: concurrent requests in
        any process wait for the render that holds the claim instead of starting their own.
        """
        while True:
            source = self._source(account_id, invoice_id)
            if source is None:
                return None
            key = render_key(source)
            content = self._render_once(source, key)
            if content is not None:
                return InvoicePdf(content, etag(source, key), source.invoice.invoice_number)
            # the claim's holder stored nothing (its invoice changed or vanished): look again

    def render_past(self, source: InvoiceDocument) -> InvoicePdf:
        """A past version, rendered on request and not cached: the cache holds each
        invoice's current version, which an auditor's look back must not push out."""
        with self._render_lock:
            content = self.renderer(source)
        self.rendered += 1
        return InvoicePdf(content, etag(source), source.invoice.invoice_number)

    def refresh(self, invoice_id: str) -> bool:
        """Renders the invoice's current version unless it is cached; True if this did."""
        before = self.rendered
        account_id = self.read.invoice_account(invoice_id)
        if account_id is None or self.get(account_id, invoice_id) is None:
            self.store.discard(invoice_id)
        return self.rendered > before

    def discard(self, invoice_id: str) -> None:
        self.store.discard(invoice_id)

    def _render_once(self, source: InvoiceDocument, key: str) -> bytes | None:
        """The bytes of ``key``: cached, rendered here under the claim, or rendered by the
        claim's holder while this waited. None if the holder stored nothing (the invoice
        was deleted or changed meanwhile)."""
        invoice_id = source.invoice.id
        content = self.store.get(invoice_id, key)
        if content is not None:
            return content
        try:
            claimed = self.store.index.claim(key, self.owner, self._claim_ttl())
        except Exception as exc:  # a full disk takes no claim: render for this request alone
            if not storage_full(exc):
                raise
            log.warning("PDF rendered without caching it: the storage is full")
            with self._render_lock:
                content = self.renderer(source)
            self.rendered += 1
            return content
        if claimed:
            try:
                content = self.store.get(invoice_id, key)  # finished while we asked for the claim
                if content is None:
                    with self._heartbeat(key), self._render_lock:
                        content = self.renderer(source)
                    self.rendered += 1
                    self._keep(invoice_id, key, content)
                return content
            finally:
                self._unclaim(key)
        while self.store.index.claimed(key):
            time.sleep(POLL_SECONDS)
        return self.store.get(invoice_id, key)

    def _keep(self, invoice_id: str, key: str, content: bytes) -> None:
        """Caches the rendering; on a full disk it is served all the same, uncached."""
        try:
            self.store.put(invoice_id, key, content)
        except Exception as exc:
            if not storage_full(exc):
                raise
            log.warning("PDF served without caching it: the storage is full")

    def _unclaim(self, key: str) -> None:
        try:
            self.store.index.unclaim(key, self.owner)
        except Exception as exc:  # the claim runs out by itself (its heartbeat stopped)
            if not storage_full(exc):
                raise
            log.warning("A render claim could not be let go of (the storage is full); it runs out by itself")

    def _claim_ttl(self) -> float:
        return min(CLAIM_TTL_SECONDS, self.claim_seconds)

    @contextlib.contextmanager
    def _heartbeat(self, key: str) -> Iterator[None]:
        """Renews the claim on ``key`` while the block runs (waiting for the render lock
        included), for at most ``claim_seconds``: past that the render is presumed stuck."""
        stop = threading.Event()
        ttl = self._claim_ttl()

        def beat() -> None:
            until = time.monotonic() + self.claim_seconds
            while not stop.wait(ttl / 3) and time.monotonic() < until:
                try:
                    self.store.index.renew(self.owner, [key], ttl)
                except Exception:  # a missed beat costs at most a second render elsewhere
                    log.warning("Could not renew the render claim on %s", key, exc_info=True)

        beating = threading.Thread(target=beat, name="pdf-claim-heartbeat", daemon=True)
        beating.start()
        try:
            yield
        finally:
            stop.set()
            beating.join()
