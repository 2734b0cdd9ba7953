"""The PDF cache's index and the PDF workers' shared state, in the read-model database.

The bytes live in files (see pdf/store.py); this module keeps only what every process and
host must agree on, so SQL stays in projections/:

- ``pdf_files``: which render keys are stored (one current key per invoice), how often
  each was rendered and when it was last served, so the cache can be bounded.
- ``pdf_tracking``: how far the PDF followers have read the event store.
- ``pdf_queue``: invoices whose PDF must be rendered, moved out of the event store in the
  same transaction that advances ``pdf_tracking``; a worker leases rows before rendering
  them, so workers share the queue and a killed worker's rows are taken up again once its
  lease runs out.
- ``pdf_claims``: single flight for one render key, across threads, processes and hosts.

None of these tables is a read-model table: a read-model rebuild leaves them alone, and a
rebuilt invoice has the same render key, so its PDF is served from the cache.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from projections.tables import invoices, tracking_table

metadata = MetaData()

pdf_files = Table(
    "pdf_files",
    metadata,
    Column("render_key", String(64), primary_key=True),
    Column("invoice_id", String(36), nullable=False),
    Column("size", Integer, nullable=False),
    Column("renders", Integer, nullable=False),
    Column("rendered_at", DateTime, nullable=False),
    Column("used_at", DateTime, nullable=False),
    Index("pdf_files_invoice", "invoice_id"),
    Index("pdf_files_used", "used_at"),
)

pdf_queue = Table(
    "pdf_queue",
    metadata,
    Column("invoice_id", String(36), primary_key=True),
    Column("seq", Integer, nullable=False),  # the notification id of the latest event that touched it
    Column("owner", String(128), nullable=True),
    Column("lease_until", DateTime, nullable=True),
    Index("pdf_queue_seq", "seq"),
)

pdf_claims = Table(
    "pdf_claims",
    metadata,
    Column("render_key", String(64), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

# The PDF followers' position in the event store (kept apart from the read model's).
pdf_tracking = tracking_table("pdf_tracking", metadata)

# A served entry's last use is written at most this often: a hit stays a read.
TOUCH_AFTER = timedelta(minutes=10)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class QueuedInvoice:
    invoice_id: str
    seq: int


class PdfIndex:
    def __init__(self, writer: Engine, reader: Engine, follower: str) -> None:
        self.engine = writer
        self.reader = reader
        self.follower = follower
        with writer.begin() as conn:
            # Before 0.2 the bytes lived in the database; they are derived, so just drop them.
            conn.execute(text("DROP TABLE IF EXISTS invoice_pdfs"))
            metadata.create_all(conn)
            if self._position(conn) is None:
                conn.execute(insert(pdf_tracking).values(application_name=follower, notification_id=0))

    # --- the followers' position and queue --------------------------------------------

    def _position(self, conn: Any) -> int | None:
        query = select(pdf_tracking.c.notification_id).where(pdf_tracking.c.application_name == self.follower)
        value = conn.execute(query).scalar_one_or_none()
        return None if value is None else int(value)

    def position(self) -> int:
        """How far the PDF followers have moved the event store into the queue."""
        with self.reader.connect() as conn:
            return self._position(conn) or 0

    def enqueue(self, start: int, end: int, touched: dict[str, int], deleted: Iterable[str]) -> list[str] | None:
        """Moves the position from ``start`` to ``end`` and, in the same transaction, queues
        the ``touched`` invoices (id -> notification id) and forgets the ``deleted`` ones.

        Returns the render keys dropped for deleted invoices (their files are the caller's
        to remove), or None if another process moved the position first.
        """
        gone = list(deleted)
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(pdf_tracking)
                .where(pdf_tracking.c.application_name == self.follower, pdf_tracking.c.notification_id == start)
                .values(notification_id=end)
            )
            if moved.rowcount != 1:
                return None
            if touched:
                statement = _upsert(conn, pdf_queue).values(
                    [{"invoice_id": i, "seq": seq} for i, seq in touched.items()]
                )
                conn.execute(
                    statement.on_conflict_do_update(index_elements=["invoice_id"], set_={"seq": statement.excluded.seq})
                )
            if not gone:
                return []
            conn.execute(delete(pdf_queue).where(pdf_queue.c.invoice_id.in_(gone)))
            return self._drop(conn, pdf_files.c.invoice_id.in_(gone))

    def lease(self, owner: str, limit: int, seconds: float) -> list[QueuedInvoice]:
        """Takes up to ``limit`` queued invoices nobody holds (or whose lease ran out)."""
        now = _now()
        free = or_(pdf_queue.c.lease_until.is_(None), pdf_queue.c.lease_until < now)
        with self.reader.connect() as conn:  # an idle worker asks often: only a read, no write lock
            if conn.execute(select(pdf_queue.c.invoice_id).where(free).limit(1)).first() is None:
                return []
        with self.engine.begin() as conn:
            candidates = list(
                conn.execute(
                    select(pdf_queue.c.invoice_id).where(free).order_by(pdf_queue.c.seq).limit(limit)
                ).scalars()
            )
            if not candidates:
                return []
            # The lease condition is checked again by the UPDATE itself, row by row, so two
            # workers that picked the same candidates cannot both take one.
            conn.execute(
                update(pdf_queue)
                .where(pdf_queue.c.invoice_id.in_(candidates), free)
                .values(owner=owner, lease_until=now + timedelta(seconds=seconds))
            )
            rows = conn.execute(
                select(pdf_queue.c.invoice_id, pdf_queue.c.seq)
                .where(pdf_queue.c.invoice_id.in_(candidates), pdf_queue.c.owner == owner)
                .order_by(pdf_queue.c.seq)
            ).all()
        return [QueuedInvoice(row.invoice_id, int(row.seq)) for row in rows]

    def finish(self, owner: str, item: QueuedInvoice) -> None:
        """Removes a rendered invoice from the queue, unless a newer event queued it again
        meanwhile: then it is released for the next render."""
        mine = and_(pdf_queue.c.invoice_id == item.invoice_id, pdf_queue.c.owner == owner)
        with self.engine.begin() as conn:
            done = conn.execute(delete(pdf_queue).where(mine, pdf_queue.c.seq == item.seq))
            if done.rowcount == 0:
                conn.execute(update(pdf_queue).where(mine).values(owner=None, lease_until=None))

    def release(self, owner: str, items: Sequence[QueuedInvoice]) -> None:
        """Gives back leased invoices that were not rendered (a worker stopping)."""
        if not items:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(pdf_queue)
                .where(pdf_queue.c.invoice_id.in_([item.invoice_id for item in items]), pdf_queue.c.owner == owner)
                .values(owner=None, lease_until=None)
            )

    def queued(self) -> int:
        with self.reader.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(pdf_queue)).scalar_one())

    # --- single flight ------------------------------------------------------------------

    def claim(self, render_key: str, owner: str, seconds: float) -> bool:
        """Takes the right to render ``render_key``; False while someone else holds it."""
        now = _now()
        until = now + timedelta(seconds=seconds)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(pdf_claims).values(render_key=render_key, owner=owner, expires_at=until))
            return True
        except IntegrityError:
            pass
        with self.engine.begin() as conn:  # a claim whose holder died is taken over once it expires
            taken = conn.execute(
                update(pdf_claims)
                .where(pdf_claims.c.render_key == render_key, pdf_claims.c.expires_at < now)
                .values(owner=owner, expires_at=until)
            )
            return taken.rowcount == 1

    def claimed(self, render_key: str) -> bool:
        with self.reader.connect() as conn:
            row = conn.execute(
                select(pdf_claims.c.render_key).where(
                    pdf_claims.c.render_key == render_key, pdf_claims.c.expires_at >= _now()
                )
            ).first()
        return row is not None

    def unclaim(self, render_key: str, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(pdf_claims).where(pdf_claims.c.render_key == render_key, pdf_claims.c.owner == owner))

    # --- the index ----------------------------------------------------------------------

    def lookup(self, invoice_id: str, render_key: str) -> bool:
        """Whether the bytes of this key are stored; marks the entry used."""
        now = _now()
        this = and_(pdf_files.c.render_key == render_key, pdf_files.c.invoice_id == invoice_id)
        with self.reader.connect() as conn:
            used = conn.execute(select(pdf_files.c.used_at).where(this)).scalar_one_or_none()
        if used is None:
            return False
        if now - used > TOUCH_AFTER:
            with self.engine.begin() as conn:
                conn.execute(update(pdf_files).where(this).values(used_at=now))
        return True

    def record(self, invoice_id: str, render_key: str, size: int, keep: int) -> tuple[bool, list[str]]:
        """Indexes freshly written bytes, unless the invoice was deleted while they were
        rendered. Returns whether they were kept, and the keys whose files must go: the
        invoice's older versions and, past ``keep`` entries, the least recently used."""
        now = _now()
        with self.engine.begin() as conn:
            if conn.execute(select(exists().where(invoices.c.id == invoice_id))).scalar_one() is not True:
                return False, []
            stale = self._drop(conn, and_(pdf_files.c.invoice_id == invoice_id, pdf_files.c.render_key != render_key))
            statement = _upsert(conn, pdf_files).values(
                render_key=render_key, invoice_id=invoice_id, size=size, renders=1, rendered_at=now, used_at=now
            )
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["render_key"],
                    set_={"renders": pdf_files.c.renders + 1, "rendered_at": now, "used_at": now, "size": size},
                )
            )
            over = int(conn.execute(select(func.count()).select_from(pdf_files)).scalar_one()) - keep
            if over > 0:
                oldest = (
                    select(pdf_files.c.render_key)
                    .where(pdf_files.c.render_key != render_key)
                    .order_by(pdf_files.c.used_at)
                    .limit(over)
                )
                stale += self._drop(conn, pdf_files.c.render_key.in_(list(conn.execute(oldest).scalars())))
        return True, stale

    def forget(self, invoice_id: str) -> list[str]:
        """Drops the invoice's entries; returns their keys."""
        with self.engine.begin() as conn:
            return self._drop(conn, pdf_files.c.invoice_id == invoice_id)

    def keys(self, invoice_id: str) -> list[str]:
        with self.reader.connect() as conn:
            return list(
                conn.execute(select(pdf_files.c.render_key).where(pdf_files.c.invoice_id == invoice_id)).scalars()
            )

    def renders(self) -> dict[str, int]:
        """How often each stored key was rendered (1 unless something rendered it twice)."""
        with self.reader.connect() as conn:
            return {row.render_key: int(row.renders) for row in conn.execute(select(pdf_files))}

    @staticmethod
    def _drop(conn: Any, condition: Any) -> list[str]:
        keys = list(conn.execute(select(pdf_files.c.render_key).where(condition)).scalars())
        if keys:
            conn.execute(delete(pdf_files).where(pdf_files.c.render_key.in_(keys)))
        return keys


def _upsert(conn: Any, table: Table) -> Any:
    """The dialect's own INSERT, which has ON CONFLICT on both SQLite and PostgreSQL."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
