"""A rebuild's pass over the events: the live projector's handlers, applied many at a time.

What the live projector does per batch (``projections.projector``: check each event's
seal, decode the ones that make rows, hand each to its handler, write the position) is
done here for a rebuild's tables, with what only a rebuild may do:

- every stream's chain is checked as well (``StreamChecks(chains=True)``): a rebuild reads
  each stream from its first event;
- rows are kept in memory until they are written (``handlers.replay_rows``): new invoices
  wait as rows that their sends, payments and voids change in place, and the lifecycle's
  handlers read what the rebuild wrote from memory, not from the tables; the invoices a
  batch's lifecycle events name and memory no longer holds are read at once;
- an ``InvoiceCreated`` is made into rows straight from its stored JSON
  (``ReplayRows.add_created``), the rest decoded as live (``projections.decoding``);
- any other handler (an account's, a client's change, an invoice's update or deletion)
  reads and writes the tables as live, after everything kept is written, and what memory
  held of its invoice is forgotten.

So most events need no write to the tables: ``gather`` applies them on a connection that
only reads (on SQLite, outside the write lock: live writers go on meanwhile), stopping
before an event whose handler writes the tables; ``write``, in a write transaction, writes
what is kept, applies the events that need the tables and moves the position.
"""

import time
from collections import deque
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.utils import resolve_topic
from sqlalchemy import Connection, update

from domain.application import CleverInvo
from projections.decoding import EventDecoder
from projections.handlers import HANDLERS
from projections.handlers.events import Invoice
from projections.handlers.registry import Registered
from projections.handlers.replay_rows import DRAFTS_HELD, PAID, ReplayRows
from projections.handlers.stored_invoices import LINE_COLUMNS
from projections.stream_checks import StreamChecks
from projections.tables import ReadTables, tracking

REPLAY_BATCH = 1_000  # events read per statement

Kind = tuple[Registered | None, bool, bool]  # handler, an InvoiceCreated add_created may read, writes the tables


class Replay:
    """Applies the store's events, in order, to one set of a rebuild's tables."""

    def __init__(self, app: CleverInvo, tables: ReadTables, key: str) -> None:
        self.app = app
        self.key = key  # the rebuild's row in the tracking table
        self.rows = ReplayRows(tables)
        self.position = 0  # the last event applied
        self._read = 0  # the last event read
        self._queue: deque[Notification] = deque()  # read, not yet applied
        self._checks = StreamChecks(chains=True)
        self._decode = EventDecoder(app.mapper)
        self._raw = self._decode.own  # stored JSON as LedgerMapper writes it: add_created may read it
        self._kinds: dict[str, Kind] = {}

    def gather(self, conn: Connection, over: Callable[[], bool]) -> bool:
        """Applies events that need no write to the tables (``conn`` only reads), at least
        a batch, until ``over()``, ``DRAFTS_HELD`` new invoices or an event that does;
        False when every event is applied."""
        queue = self._queue
        while True:
            if not queue and not self._fetch(conn):
                return False
            while queue:
                if self._kind(queue[0].topic)[2]:
                    return True
                self._apply(conn, queue.popleft())
            if over() or len(self.rows.drafts) >= DRAFTS_HELD:
                return True

    def write(self, conn: Connection) -> None:
        """In a write transaction: writes what is kept, applies the rest of the batch read
        if it holds events that need the tables, then writes the position."""
        rows, queue = self.rows, self._queue
        rows.flush_all(conn)
        while queue:
            notification = queue.popleft()
            if self._kind(notification.topic)[2]:
                rows.flush_all(conn)  # a handler that reads and writes the tables as live
                self._apply(conn, notification)
                rows.forget_invoice(str(notification.originator_id))
            else:
                self._apply(conn, notification)
        self.commit(conn)

    def run(self, conn: Connection) -> None:
        """Applies every event left, in ``conn``'s transaction (the switch's)."""
        while self.gather(conn, lambda: False):
            self.write(conn)
        self.commit(conn)

    def commit(self, conn: Connection) -> None:
        """Writes what is kept, the counts and the position (the transaction commits next)."""
        self.rows.flush_all(conn)
        self.rows.flush_counts(conn)
        conn.execute(
            update(tracking).where(tracking.c.application_name == self.key).values(notification_id=self.position)
        )

    def _fetch(self, conn: Connection) -> bool:
        notifications = self.app.recorder.select_notifications(
            start=self._read, limit=REPLAY_BATCH, inclusive_of_start=False
        )
        if not notifications:
            return False
        self._read = notifications[-1].id
        self._load(conn, notifications)
        self._queue.extend(notifications)
        return True

    def _apply(self, conn: Connection, notification: Notification) -> None:
        self._checks.check(notification)
        self.position = notification.id
        handler, created, _ = self._kind(notification.topic)
        if handler is None:
            return
        rows = self.rows
        invoice_id = str(notification.originator_id)
        if created and rows.add_created(conn, invoice_id, notification.originator_version, notification.state):
            return
        handler.handle(rows, conn, self._decode(notification))
        if rows.new["invoices"]:  # made by the handler: kept like add_created's
            self._adopt()

    def _adopt(self) -> None:
        """Takes the invoices and lines a handler buffered as live into what memory keeps."""
        rows = self.rows
        for row in rows.new["invoices"]:
            rows.drafts[row["id"]] = {**rows.blank, **row, PAID: {}}
        rows.lines.extend(
            tuple(str(value) if isinstance(value, Decimal) else value for value in (line[c] for c in LINE_COLUMNS))
            for line in rows.new["lines"]
        )
        rows.new["invoices"].clear()
        rows.new["lines"].clear()

    def _load(self, conn: Connection, notifications: Sequence[Notification]) -> None:
        """Reads at once the written invoices this batch's lifecycle events name that memory
        no longer holds (the ones created in the batch are not looked for)."""
        rows = self.rows
        created: set[str] = set()
        wanted: dict[str, None] = {}
        for notification in notifications:
            handler, is_created, _ = self._kind(notification.topic)
            if handler is None:
                continue
            if is_created:
                created.add(str(notification.originator_id))
            elif handler.buffered:
                invoice_id = str(notification.originator_id)
                if invoice_id not in created and not rows.known(invoice_id):
                    wanted[invoice_id] = None
        if wanted:
            rows.load(conn, list(wanted))

    def _kind(self, topic: str) -> Kind:
        """What applying an event of a stored topic takes (``Kind``)."""
        kind = self._kinds.get(topic)
        if kind is None:
            event_class: type[Any] = resolve_topic(topic)
            handler = HANDLERS.of(event_class)
            created = (
                self._raw
                and event_class is Invoice.InvoiceCreated
                and getattr(event_class, "class_version", 1) == 1  # no upcasting
            )
            writes = handler is not None and not (handler.adds_only or handler.buffered)
            kind = self._kinds[topic] = (handler, created, writes)
        return kind


def deadline(seconds: float, waiting: Callable[[], bool]) -> Callable[[], bool]:
    """``over`` for ``gather``: true ``seconds`` from now, or once ``waiting()``."""
    until = time.monotonic() + seconds
    return lambda: time.monotonic() >= until or waiting()
