"""The PDF follower: renders what someone can want, off the request path, in its own process.

It moves new events from the event store into its work queue (storage/work_queue.py)
in the same transaction that advances its tracked position, then leases a few queued
invoices at a time and renders them. Any number of followers can run, on any host: the
position's compare-and-set hands each batch of events to one of them, a lease hands each
queued invoice to one of them, and a render key's claim (see pdf/service.py) makes even a
request that asks for the same PDF wait for that one render. A follower killed mid-batch
leaves its leased invoices in the queue; they are taken up again when the lease runs out,
and what it had already stored is never rendered again (the cache is keyed by content).

Which versions it renders, and when. A render costs about 30 ms of CPU for a three-line
invoice, several times what creating the invoice costs, so rendering every new version
made a bulk import pay for renders nobody may ever ask for. Now:

- due at once: an invoice sent (its email needs the PDF, its share link shows it), and a
  new version of an invoice whose PDF is in the cache (someone asked for its last one);
- when the worker is idle: every other new version (a new invoice, an edited draft nobody
  downloaded). These are rendered newest first, at most ``PRERENDER_BURST`` at once and
  ``PRERENDER_PER_SECOND`` on average, so invoices made by hand (one every few seconds)
  are ready before anyone clicks, while a bulk import costs a few renders a minute; only
  the newest ``PRERENDER_BURST`` of them stay queued, the rest are rendered on demand.

A GET of a version not rendered yet renders it on the request path, once, as before.
"""

import logging
import threading
import time
from collections.abc import Callable

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
SENDING = "Invoice.InvoiceSent"  # someone is about to want the PDF: rendered at once
# Renders of versions nobody asked for yet: a person's pace, not an import's.
PRERENDER_BURST = 5  # at once, after a pause; also how many of them stay queued
PRERENDER_PER_SECOND = 0.5  # on average, while invoices keep coming


class PdfWorker:
    def __init__(
        self,
        app: CleverInvo,
        projector: ReadModelProjector,
        pdfs: InvoicePdfs,
        queue: WorkQueue,
        lease_seconds: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.projector = projector
        self.pdfs = pdfs
        self.queue = queue
        self.lease_seconds = lease_seconds
        self.owner = pdfs.owner
        self.clock = clock
        # A token bucket for renders nobody asked for: full at start, refilled over time.
        self.prerender_burst = PRERENDER_BURST
        self.prerender_per_second = PRERENDER_PER_SECOND
        self._tokens = float(self.prerender_burst)
        self._tokens_at = clock()
        self._queued_later = True  # what a previous process queued for later may need trimming

    def position(self) -> int:
        return self.queue.position()

    def follow(self) -> None:
        """Moves every event recorded so far into the queue."""
        limit = self.projector.catch_up()  # the read model it renders from must be this far
        for start, notes, end in self.queue.unqueued(self.app.recorder, limit, BATCH):
            self._move(start, notes, end)

    def _move(self, start: int, notes: list[Notification], end: int) -> None:
        """Queues the invoices one batch of events touched (at once, or for when idle: see
        the module's docstring); forgets the deleted ones' PDFs."""
        touched: dict[str, int] = {}
        sent: set[str] = set()
        deleted: set[str] = set()
        for note in notes:
            kind = note.topic.rsplit(":", 1)[-1]
            invoice_id = str(note.originator_id)
            if kind == DELETING:
                touched.pop(invoice_id, None)
                sent.discard(invoice_id)
                deleted.add(invoice_id)
            elif kind.startswith("Invoice."):
                touched[invoice_id] = note.id
                deleted.discard(invoice_id)
                if kind == SENDING:
                    sent.add(invoice_id)
        wanted = sent | self.pdfs.store.index.stored(sorted(touched.keys() - sent))
        now = {item: seq for item, seq in touched.items() if item in wanted}
        later = {item: seq for item, seq in touched.items() if item not in wanted}
        gone: list[str] = []

        def forget(conn: Connection) -> None:
            gone.extend(self.pdfs.store.index.forget_in(conn, sorted(deleted)))

        if self.queue.advance(start, end, now, deleted, forget, later=later):
            self._queued_later = self._queued_later or bool(later)
        self.pdfs.store.remove(gone)  # nothing, if another process moved the position first

    def run_once(self, stop: threading.Event | None = None, budget_seconds: float = TURN_SECONDS) -> int:
        """Follows the store, then renders what is due until none is left, ``stop`` is set
        or ``budget_seconds`` have passed (so the other followers in its process get their
        turn during a long backlog), then, with time left, what waits for an idle moment as
        far as the bucket allows; returns how many PDFs it rendered."""
        self.follow()
        if self._queued_later:
            self.queue.trim_idle(self.prerender_burst)
            self._queued_later = False
        rendered = 0
        deadline = time.monotonic() + budget_seconds

        def more() -> bool:
            return not (stop and stop.is_set()) and time.monotonic() < deadline

        while more():
            items = self.queue.lease(self.owner, LEASE_BATCH, self.lease_seconds)
            if not items:
                return rendered + self._prerender(stop, more)
            rendered += self._render(items, stop)
        return rendered

    def _prerender(self, stop: threading.Event | None, more: Callable[[], bool]) -> int:
        """Renders versions queued for when idle, newest first, as the bucket allows."""
        now = self.clock()
        self._tokens = min(
            float(self.prerender_burst), self._tokens + (now - self._tokens_at) * self.prerender_per_second
        )
        self._tokens_at = now
        rendered = 0
        while self._tokens >= 1 and more():
            items = self.queue.lease_idle(self.owner, min(LEASE_BATCH, int(self._tokens)), self.lease_seconds)
            if not items:
                break
            done = self._render(items, stop)
            self._tokens -= done
            rendered += done
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
