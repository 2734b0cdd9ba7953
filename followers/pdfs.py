"""The PDF follower: renders what changed, off the request path, in its own process.

It moves new events from the event store into its work queue (storage/work_queue.py)
in the same transaction that advances its tracked position, then leases a few queued
invoices at a time and renders them. Any number of followers can run, on any host: the
position's compare-and-set hands each batch of events to one of them, a lease hands each
queued invoice to one of them, and a render key's claim (see pdf/service.py) makes even a
request that asks for the same PDF wait for that one render. A follower killed mid-batch
leaves its leased invoices in the queue; they are taken up again when the lease runs out,
and what it had already stored is never rendered again (the cache is keyed by content).
"""

import logging
import threading
import time

from eventsourcing.persistence import Notification
from sqlalchemy import Connection

from domain.application import CleverInvo
from pdf.service import InvoicePdfs
from projections.projector import ReadModelProjector
from storage.work_queue import QueuedItem, WorkQueue

log = logging.getLogger("cleverinvo.pdf")
BATCH = 500  # events moved into the queue per transaction
LEASE_BATCH = 8  # invoices leased at a time: a slow batch must finish well within its lease
LEASE_SECONDS = 30.0
TURN_SECONDS = 2.0  # how long one turn of rendering may last before email and the sweep get theirs
DELETING = "Invoice.InvoiceDeleted"  # every other Invoice event may change what the PDF shows


class PdfWorker:
    def __init__(
        self,
        app: CleverInvo,
        projector: ReadModelProjector,
        pdfs: InvoicePdfs,
        queue: WorkQueue,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.app = app
        self.projector = projector
        self.pdfs = pdfs
        self.queue = queue
        self.lease_seconds = lease_seconds
        self.owner = pdfs.owner

    def position(self) -> int:
        return self.queue.position()

    def follow(self) -> None:
        """Moves every event recorded so far into the queue."""
        limit = self.projector.catch_up()  # the read model it renders from must be this far
        for start, notes, end in self.queue.unqueued(self.app.recorder, limit, BATCH):
            self._move(start, notes, end)

    def _move(self, start: int, notes: list[Notification], end: int) -> None:
        """Queues the invoices one batch of events touched; forgets the deleted ones' PDFs."""
        touched: dict[str, int] = {}
        deleted: set[str] = set()
        for note in notes:
            kind = note.topic.rsplit(":", 1)[-1]
            invoice_id = str(note.originator_id)
            if kind == DELETING:
                touched.pop(invoice_id, None)
                deleted.add(invoice_id)
            elif kind.startswith("Invoice."):
                touched[invoice_id] = note.id
                deleted.discard(invoice_id)
        gone: list[str] = []

        def forget(conn: Connection) -> None:
            gone.extend(self.pdfs.store.index.forget_in(conn, sorted(deleted)))

        self.queue.advance(start, end, touched, deleted, forget)
        self.pdfs.store.remove(gone)  # nothing, if another process moved the position first

    def run_once(self, stop: threading.Event | None = None, budget_seconds: float = TURN_SECONDS) -> int:
        """Follows the store, then renders queued invoices until the queue is empty,
        ``stop`` is set or ``budget_seconds`` have passed (so the other followers in its
        process get their turn during a long backlog); returns how many PDFs it rendered."""
        self.follow()
        rendered = 0
        deadline = time.monotonic() + budget_seconds
        while not (stop and stop.is_set()) and time.monotonic() < deadline:
            items = self.queue.lease(self.owner, LEASE_BATCH, self.lease_seconds)
            if not items:
                break
            rendered += self._render(items, stop)
        return rendered

    def _render(self, items: list[QueuedItem], stop: threading.Event | None) -> int:
        rendered = 0
        for number, item in enumerate(items):
            if stop and stop.is_set():  # leave the rest to the next follower, at once
                self.queue.release(self.owner, items[number:])
                break
            try:
                rendered += self.pdfs.refresh(item.item)
            except Exception:  # one bad invoice must not hold back the rest; GET renders it later
                log.exception("Could not render the PDF of invoice %s", item.item)
            self.queue.finish(self.owner, item)
        return rendered
