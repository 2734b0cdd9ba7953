"""Renders PDFs off the request path: a thread that follows the event store.

It keeps its own tracked position (beside the read-model projection's), so after a
restart it resumes; a PDF it has not rendered yet is rendered on demand by GET.
"""

import logging
import threading

from sqlalchemy import Engine, insert, select, update

from domain.application import CleverInvo
from pdf.service import InvoicePdfs
from pdf.store import metadata
from pdf.store import pdf_tracking as tracking
from projections.projector import ReadModelProjector

log = logging.getLogger("cleverinvo.pdf")
BATCH = 500
TOUCHING = ("Invoice.InvoiceCreated", "Invoice.InvoiceUpdated")
DELETING = "Invoice.InvoiceDeleted"


class PdfWorker:
    def __init__(self, app: CleverInvo, projector: ReadModelProjector, pdfs: InvoicePdfs, writer: Engine) -> None:
        self.app = app
        self.projector = projector
        self.pdfs = pdfs
        self.writer = writer
        self.name = app.name
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        with writer.begin() as conn:
            metadata.create_all(conn)
            found = conn.execute(select(tracking.c.notification_id).where(tracking.c.application_name == self.name))
            if found.first() is None:
                conn.execute(insert(tracking).values(application_name=self.name, notification_id=0))

    def position(self) -> int:
        with self.writer.connect() as conn:
            return int(
                conn.execute(
                    select(tracking.c.notification_id).where(tracking.c.application_name == self.name)
                ).scalar_one()
            )

    def run_once(self) -> int:
        """Renders what changed since the last run; returns how many invoices it rendered."""
        rendered = 0
        limit = self.projector.catch_up()  # the read model it renders from must be this far
        while True:
            with self.writer.begin() as conn:
                start = int(
                    conn.execute(
                        select(tracking.c.notification_id)
                        .where(tracking.c.application_name == self.name)
                        .with_for_update()
                    ).scalar_one()
                )
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
                end = notes[-1].id if notes else limit
                conn.execute(
                    update(tracking).where(tracking.c.application_name == self.name).values(notification_id=end)
                )
            for invoice_id, alive in touched.items():
                if alive:
                    self.pdfs.refresh(invoice_id)
                    rendered += 1
                else:
                    self.pdfs.discard(invoice_id)

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
