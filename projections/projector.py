"""The projection that turns the event store into read-model rows, exactly once.

Each batch of events is applied in one transaction that also moves the projection's
tracked position, guarded by a compare-and-set on the old position: two processes that
race to apply the same events cannot both commit, and a restart resumes where the last
commit left off. An event's class picks its handler (``projections.handlers``); a
rebuild (``projections.rebuild``) replays every event through the very same handlers
into tables beside the live ones, so a rebuilt read model equals the live one.
"""

import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.utils import resolve_topic
from sqlalchemy import Connection, Engine, bindparam, select, update

from database import schema
from database.engines import exclusive
from database.statements import upsert
from domain.application import CleverInvo
from projections import rebuild as rebuilding
from projections.decoding import EventDecoder
from projections.handlers import HANDLERS
from projections.handlers.registry import Registered
from projections.handlers.rows import Rows
from projections.stream_checks import StreamChecks
from projections.tables import LIVE, ReadTables, tracking

BATCH_SIZE = 500


class ReadModelProjector:
    """Applies the application's events to the read-model tables in notification order."""

    def __init__(
        self,
        app: CleverInvo,
        writer: Engine,
        tables: ReadTables = LIVE,
        key: str | None = None,
        *,
        filling: bool = False,
    ) -> None:
        """``filling``: the projector of a rebuild's tables (``projections.rebuild``), their sole writer."""
        self.app = app
        self.writer = writer
        self.key = key or app.name  # its row in the tracking table
        self._lock = threading.Lock()
        self._inline = threading.local()  # the position a command's transaction reached (apply_within)
        # The position's statements, built once (SQLAlchemy caches their compiled form).
        self._reading = (
            select(tracking.c.notification_id)
            .where(tracking.c.application_name == bindparam("key"))
            .with_for_update()
        )
        self._moving = (
            update(tracking)
            .where(tracking.c.application_name == bindparam("key"), tracking.c.notification_id == bindparam("old"))
            .values(notification_id=bindparam("new"))
        )
        self._closed = False
        self._known_position = -1
        self._by_topic: dict[str, Registered | None] = {}  # a stored topic -> its handler (None: no rows)
        self.rows = Rows(tables)  # the live tables, or a rebuild's beside them
        self._decode = EventDecoder(app.mapper)
        # Every event's seal is checked before rows are made of it; a rebuild, which reads
        # every stream from its start, checks their chains too (``projections.stream_checks``):
        # an unverifiable stream stops it, naming the stream.
        self._checks = StreamChecks(chains=filling)
        if filling:
            self.rows.sole_writer = True  # nobody else writes the new tables: what it read stays true
            self.rows.searched = False

    @property
    def searched(self) -> bool:
        """Whether rows go into the search index as they are written (a rebuild's, once it is built)."""
        return self.rows.searched

    @searched.setter
    def searched(self, value: bool) -> None:
        self.rows.searched = value

    # --- lifecycle -------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Migrates the database (``database.schema``: never a newer one's tables); read
        models that a revision marked stale are rebuilt from the events, by one process."""
        schema.upgrade(self.writer)
        with self.writer.begin() as conn:
            if self._read_position(conn) is None:  # racing starts: one insert lands
                row = {"application_name": self.key, "notification_id": 0}
                conn.execute(upsert(conn, tracking).values(row).on_conflict_do_nothing())
            stale = schema.stale(conn)
        if stale:
            with exclusive(self.writer, "read-model-rebuild"):
                with self.writer.connect() as conn:
                    stale = schema.stale(conn)  # another process may have rebuilt meanwhile
                if stale:
                    self.rebuild()
                    with self.writer.begin() as conn:
                        schema.fresh(conn)

    def position(self) -> int:
        with self.writer.connect() as conn:
            return self._read_position(conn) or 0

    def catch_up(self) -> int:
        """Applies every event recorded so far; returns the position reached."""
        with self._lock:
            while not self._closed:
                latest = self.app.recorder.max_notification_id() or 0
                if latest <= self._known_position:
                    return self._known_position
                try:
                    with self.writer.begin() as conn:
                        reached, more = self.apply_batch(conn)
                except BaseException:  # rolled back (or its outcome unknown): nothing cached is trusted
                    self.rows.forget()
                    raise
                self._known_position = reached
                if not more:
                    return reached
            return self._known_position

    def apply_within(self, conn: Connection, written: Sequence[Notification] = ()) -> None:
        """Applies, inside a command's own transaction (``database.event_transactions``),
        every event after the projection's position: the command's new ones (``written``,
        as the store numbered them), and any an unwired writer left behind. They commit
        with the events, or neither does. The database's write lock (SQLite's, PostgreSQL's
        lock on the events table and on the position's row) keeps one applier at a time, so
        ``_lock`` is not taken: a catch-up holding it waits for this transaction's lock, and
        would wait for ever the other way round.

        The usual case costs no read: the position moves from just before ``written`` to its
        last (the compare-and-set is the check that nothing is missing), then their rows
        are made from the events in hand. Otherwise the store is read from the position."""
        ids = [notification.id for notification in written]
        if ids and ids == list(range(ids[0], ids[0] + len(ids))) and self._move(conn, ids[0] - 1, ids[-1]):
            self._apply(conn, written)
            self._inline.reached = ids[-1]
            return
        more = True
        while more:
            self._inline.reached, more = self.apply_batch(conn)

    def committed(self) -> None:
        """After the command's transaction committed: its position is known applied."""
        reached = getattr(self._inline, "reached", None)
        if reached is not None:
            self._known_position = max(self._known_position, reached)
            self._inline.reached = None

    def rolled_back(self) -> None:
        """After the command's transaction rolled back: what the rows cached is not true."""
        self._inline.reached = None
        self.rows.forget()

    def close(self) -> None:
        """Waits for a catch-up under way (a follower's thread outlives the task that started
        it when the task is cancelled) and makes later ones do nothing: the stores' connections
        are closed next, and a query on a closed SQLite connection from another thread can
        crash the process."""
        with self._lock:
            self._closed = True

    def rebuild(self) -> int:
        """Rebuilds every read-model table from the events beside the live ones, then
        switches them in one short transaction (``projections.rebuild``); returns the position."""
        shadow, deferred = rebuilding.prepare(self.writer)
        builder = ReadModelProjector(self.app, self.writer, shadow, rebuilding.REBUILD_KEY, filling=True)
        rebuilding.fill(self.app, self.writer, builder, shadow, deferred)
        with self._lock, self.writer.begin() as conn:
            self._read_position(conn)  # other processes' projectors wait for the switch (PostgreSQL)
            reached = rebuilding.switch(conn, builder, shadow, self.key)
            self._known_position = reached
            return reached

    # --- mechanics ------------------------------------------------------------------

    def _read_position(self, conn: Connection) -> int | None:
        value = conn.execute(self._reading, {"key": self.key}).scalar_one_or_none()
        return None if value is None else int(value)

    def apply_batch(self, conn: Connection) -> tuple[int, bool]:
        """Applies the next batch after the stored position; returns (position, maybe more)."""
        position = self._read_position(conn) or 0
        notifications = self.app.recorder.select_notifications(
            start=position, limit=BATCH_SIZE, inclusive_of_start=False
        )
        if not notifications:
            return position, False
        self._apply(conn, notifications)
        reached = notifications[-1].id
        if not self._move(conn, position, reached):
            raise RuntimeError("The projection's position moved under a locked transaction")
        return reached, len(notifications) == BATCH_SIZE

    def _apply(self, conn: Connection, notifications: Sequence[Notification]) -> None:
        """Makes the rows of ``notifications``, in order, each checked against its seal first."""
        rows = self.rows
        rows.start_batch()
        for notification in notifications:
            self._checks.check(notification)
            # Decoded only when it makes rows: most events (quotas, numbers) make none.
            handler = self._handler_of(notification.topic)
            if handler is not None:
                if not handler.adds_only:
                    rows.flush_new(conn)
                handler.handle(rows, conn, self._decode(notification))
        rows.flush_new(conn)
        rows.flush_counts(conn)

    def _move(self, conn: Connection, position: int, reached: int) -> bool:
        """The position's compare-and-set: from ``position`` to ``reached``, or False if it is not there."""
        moved = conn.execute(self._moving, {"key": self.key, "old": position, "new": reached})
        return bool(moved.rowcount == 1)

    def _handler_of(self, topic: str) -> Registered | None:
        """The handler of the event class a stored topic names (None: its events make no rows)."""
        try:
            return self._by_topic[topic]
        except KeyError:
            event_class: type[Any] = resolve_topic(topic)
            handler = self._by_topic[topic] = HANDLERS.of(event_class)
            return handler
