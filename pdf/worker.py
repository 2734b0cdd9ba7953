"""The PDF follower: renders what changed, off the request path, in its own process.

It moves new events from the event store into a queue (pdf_queue) in the same transaction
that advances its tracked position, then leases a few queued invoices at a time and
renders them. Any number of followers can run, on any host: the position's
compare-and-set hands each batch of events to one of them, a lease hands each queued
invoice to one of them, and a render key's claim (see pdf/service.py) makes even a
request that asks for the same PDF wait for that one render. A follower killed mid-batch
leaves its leased invoices in the queue; they are taken up again when the lease runs out,
and what it had already stored is never rendered again (the cache is keyed by content).
"""

import logging
import threading

from domain.application import CleverInvo
from pdf.service import InvoicePdfs
from projections.pdf_cache import QueuedInvoice
from projections.projector import ReadModelProjector

log = logging.getLogger("cleverinvo.pdf")
BATCH = 500  # events moved into the queue per transaction
LEASE_BATCH = 8  # invoices leased at a time: a slow batch must finish well within its lease
LEASE_SECONDS = 30.0
TOUCHING = ("Invoice.InvoiceCreated", "Invoice.InvoiceUpdated")
DELETING = "Invoice.InvoiceDeleted"


class PdfWorker:
    def __init__(
        self,
        app: CleverInvo,
        projector: ReadModelProjector,
        pdfs: InvoicePdfs,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.app = app
        self.projector = projector
        self.pdfs = pdfs
        self.index = pdfs.store.index
        self.lease_seconds = lease_seconds
        self.owner = pdfs.owner

    def position(self) -> int:
        return self.index.position()

    def follow(self) -> None:
        """Moves every event recorded so far into the queue."""
        limit = self.projector.catch_up()  # the read model it renders from must be this far
        while True:
            start = self.index.position()
            if start >= limit:
                return
            notes = self.app.recorder.select_notifications(
                start=start, limit=BATCH, stop=limit, inclusive_of_start=False
            )
            touched: dict[str, int] = {}
            deleted: set[str] = set()
            for note in notes:
                kind = note.topic.rsplit(":", 1)[-1]
                invoice_id = str(note.originator_id)
                if kind in TOUCHING:
                    touched[invoice_id] = note.id
                    deleted.discard(invoice_id)
                elif kind == DELETING:
                    touched.pop(invoice_id, None)
                    deleted.add(invoice_id)
            gone = self.index.enqueue(start, notes[-1].id if notes else limit, touched, deleted)
            if gone:  # another process may have moved the position first: then it removes them
                self.pdfs.store.remove(gone)

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Follows the store, then renders queued invoices until the queue is empty or
        ``stop`` is set; returns how many PDFs it rendered."""
        self.follow()
        rendered = 0
        while not (stop and stop.is_set()):
            items = self.index.lease(self.owner, LEASE_BATCH, self.lease_seconds)
            if not items:
                break
            rendered += self._render(items, stop)
        return rendered

    def _render(self, items: list[QueuedInvoice], stop: threading.Event | None) -> int:
        rendered = 0
        for number, item in enumerate(items):
            if stop and stop.is_set():  # leave the rest to the next follower, at once
                self.index.release(self.owner, items[number:])
                break
            try:
                rendered += self.pdfs.refresh(item.invoice_id)
            except Exception:  # one bad invoice must not hold back the rest; GET renders it later
                log.exception("Could not render the PDF of invoice %s", item.invoice_id)
            self.index.finish(self.owner, item)
        return rendered

    def serve(self, stop: threading.Event, poll_seconds: float = 0.25) -> None:
        """Follows and renders until ``stop`` is set; a failure is logged and retried."""
        while not stop.is_set():
            try:
                busy = self.run_once(stop)
            except Exception:
                log.exception("PDF worker failed; retrying")
                busy = 0
            if not busy:
                stop.wait(poll_seconds)
