"""Renders PDFs off the request path: a thread that follows the event store.

It keeps its own tracked position (beside the read-model projection's), so after a
restart it resumes; a PDF it has not rendered yet is rendered on demand by GET.
"""

import logging
import threading

from domain.application import CleverInvo
from pdf.service import InvoicePdfs
from projections.projector import ReadModelProjector

log = logging.getLogger("cleverinvo.pdf")
BATCH = 500
TOUCHING = ("Invoice.InvoiceCreated", "Invoice.InvoiceUpdated")
DELETING = "Invoice.InvoiceDeleted"


class PdfWorker:
    def __init__(self, app: CleverInvo, projector: ReadModelProjector, pdfs: InvoicePdfs) -> None:
        self.app = app
        self.projector = projector
        self.pdfs = pdfs
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def position(self) -> int:
        return self.pdfs.cache.position()

    def run_once(self) -> int:
        """Renders what changed since the last run; returns how many invoices it rendered."""
        rendered = 0
        limit = self.projector.catch_up()  # the read model it renders from must be this far
        while True:
            start = self.pdfs.cache.position()
            if start >= limit:
                return rendered
            notes = self.app.recorder.select_notifications(
                start=start, limit=BATCH, stop=limit, inclusive_of_start=False
            )
            touched: dict[str, bool] = {}
            for note in notes:
                kind = note.topic.rsplit(":", 1)[-1]
                if kind in TOUCHING:
                    touched[str(note.originator_id)] = True
                elif kind == DELETING:
                    touched[str(note.originator_id)] = False
            if not self.pdfs.cache.advance(start, notes[-1].id if notes else limit):
                continue  # another process took this batch
            for invoice_id, alive in touched.items():
                try:
                    if alive:
                        self.pdfs.refresh(invoice_id)
                        rendered += 1
                    else:
                        self.pdfs.discard(invoice_id)
                except Exception:  # one bad invoice must not hold back the rest; GET renders it later
                    log.exception("Could not render the PDF of invoice %s", invoice_id)

    def notify(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="cleverinvo-pdf", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.run_once()
            except Exception:  # a bad render must not stop later ones; GET renders on demand
                log.exception("PDF worker failed; will retry")
