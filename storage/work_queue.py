"""Work that followers of the event store do outside requests (rendering PDFs, sending
email), queued in the read-model database so every process and host shares it.

A follower reads new events from its tracked position and, in the same transaction that
moves the position on (a compare-and-set, so one process wins each batch), queues the
items those events call for. Workers then lease a few items at a time: the lease hands
each item to one worker, and an item whose worker died is taken up again once its lease
runs out, or at once when the worker ran on this host and is found gone
(storage/process_names.py). An item can be put off (a retry with backoff) and counts its attempts.

An item can also be queued for when the worker is idle (``later``, ``WHEN_IDLE``): work
nobody waits for yet, which the follower may do at its own pace (``lease_idle``, newest
first) or drop (``trim_idle``). The PDF follower queues a new invoice that way: an import
of 100,000 invoices must not cost 100,000 renders before anything else, nor at all when
nobody asks for their PDFs (they are rendered on demand then).

The queue reads the time from the clock it is given (naive UTC in the tables): the email
queue is given the application's, so a retry's schedule follows the same clock as the
``retryAt`` the event records, and a test moves it forward instead of waiting.

Neither table is a read-model table: a read-model rebuild leaves the work alone.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import ApplicationRecorder as Recorder
from eventsourcing.persistence import Notification
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    case,
    delete,
    func,
    or_,
    select,
    update,
)

from database.schema import ensure_migrated
from database.statements import upsert
from storage.process_names import gone
from storage.tables import work_queue, work_tracking


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


Clock = Callable[[], datetime]
# The not_before of work queued for when the worker is idle: never due by the clock, leased
# only by ``lease_idle``. No schema change: the column already orders what is due.
WHEN_IDLE = datetime(9999, 12, 31)


def naive_utc(moment: datetime) -> datetime:
    """How the tables hold a time: UTC without a zone (an aware clock's answer converted)."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class QueuedItem:
    item: str
    seq: int
    attempt: int


class WorkQueue:
    """One follower's position and queue."""

    def __init__(self, writer: Engine, reader: Engine, follower: str, clock: Clock = now) -> None:
        self.writer = writer
        self.reader = reader
        self.follower = follower
        self.clock = clock
        self._mine = work_queue.c.follower == follower
        ensure_migrated(writer)
        with writer.begin() as conn:
            if self._position(conn) is None:  # racing starts: one insert lands
                row = {"application_name": follower, "notification_id": 0}
                conn.execute(upsert(conn, work_tracking).values(row).on_conflict_do_nothing())

    def now(self) -> datetime:
        """The queue's time, naive UTC as the tables hold it."""
        return naive_utc(self.clock())

    def _position(self, conn: Connection) -> int | None:
        query = select(work_tracking.c.notification_id).where(work_tracking.c.application_name == self.follower)
        value = conn.execute(query).scalar_one_or_none()
        return None if value is None else int(value)

    def position(self) -> int:
        """How far the follower has moved the event store into its queue."""
        with self.reader.connect() as conn:
            return self._position(conn) or 0

    def unqueued(self, recorder: Recorder, limit: int, batch: int) -> Iterator[tuple[int, list[Notification], int]]:
        """The events after the position up to ``limit``, a batch at a time, as
        ``(start, notifications, end)``: the caller queues what they call for with
        ``advance(start, end, ...)``. Should another process advance first, the next batch
        starts from where it left the position, so no event is queued twice or skipped."""
        while (start := self.position()) < limit:
            notes = list(recorder.select_notifications(start=start, limit=batch, stop=limit, inclusive_of_start=False))
            yield start, notes, notes[-1].id if notes else limit

    def advance(
        self,
        start: int,
        end: int,
        put: dict[str, int],
        drop: Iterable[str] = (),
        also: Callable[[Connection], None] | None = None,
        later: dict[str, int] | None = None,
    ) -> bool:
        """Moves the position from ``start`` to ``end`` and, in the same transaction, queues
        ``put`` (item -> notification id) as due now, ``later`` for when the worker is idle
        (an item already due stays due), unqueues ``drop`` and runs ``also``. An item queued
        for later that ``put`` names becomes due now; one in backoff keeps its time. False,
        with nothing done, if another process moved the position first."""
        gone = list(drop)
        with self.writer.begin() as conn:
            moved = conn.execute(
                update(work_tracking)
                .where(work_tracking.c.application_name == self.follower, work_tracking.c.notification_id == start)
                .values(notification_id=end)
            )
            if moved.rowcount != 1:
                return False
            if put:
                statement = upsert(conn, work_queue).values(self._rows(put, self.now()))
                due = case(
                    (work_queue.c.not_before == WHEN_IDLE, statement.excluded.not_before),
                    else_=work_queue.c.not_before,
                )
                conn.execute(
                    statement.on_conflict_do_update(
                        index_elements=["follower", "item"], set_={"seq": statement.excluded.seq, "not_before": due}
                    )
                )
            if later:
                statement = upsert(conn, work_queue).values(self._rows(later, WHEN_IDLE))
                conn.execute(
                    statement.on_conflict_do_update(
                        index_elements=["follower", "item"], set_={"seq": statement.excluded.seq}
                    )
                )
            if gone:
                conn.execute(delete(work_queue).where(self._mine, work_queue.c.item.in_(gone)))
            if also is not None:
                also(conn)
        return True

    def _rows(self, items: dict[str, int], not_before: datetime) -> list[dict[str, Any]]:
        return [
            {"follower": self.follower, "item": item, "seq": seq, "attempt": 0, "not_before": not_before}
            for item, seq in items.items()
        ]

    def lease(self, owner: str, limit: int, seconds: float) -> list[QueuedItem]:
        """Takes up to ``limit`` due items that nobody holds, oldest event first: never
        leased, the lease run out, or its holder found gone on this host (a killed worker's
        items are taken up again at once, not when the lease runs out)."""
        at = self.now()
        return self._lease(owner, limit, seconds, at, work_queue.c.not_before <= at, work_queue.c.seq)

    def lease_idle(self, owner: str, limit: int, seconds: float) -> list[QueuedItem]:
        """The same for items queued for when the worker is idle, newest first: what was
        made last is the likeliest to be asked for next."""
        idle = work_queue.c.not_before == WHEN_IDLE
        return self._lease(owner, limit, seconds, self.now(), idle, work_queue.c.seq.desc())

    def _lease(
        self, owner: str, limit: int, seconds: float, at: datetime, when: ColumnElement[bool], order: Any
    ) -> list[QueuedItem]:
        due = and_(self._mine, when)
        open_ = or_(work_queue.c.lease_until.is_(None), work_queue.c.lease_until < at)
        with self.reader.connect() as conn:  # an idle worker asks often: only reads, no write lock
            holders = conn.execute(
                select(work_queue.c.owner).where(due, work_queue.c.lease_until >= at).group_by(work_queue.c.owner)
            ).scalars()
            dead = [holder for holder in holders if holder and holder != owner and gone(holder)]
            free = or_(open_, work_queue.c.owner.in_(dead)) if dead else open_
            if conn.execute(select(work_queue.c.item).where(due, free).limit(1)).first() is None:
                return []
        free = and_(due, free)
        with self.writer.begin() as conn:
            picked = select(work_queue.c.item).where(free).order_by(order).limit(limit)
            candidates = list(conn.execute(picked).scalars())
            if not candidates:
                return []
            # The lease condition is checked again by the UPDATE itself, row by row, so two
            # workers that picked the same candidates cannot both take one.
            conn.execute(
                update(work_queue)
                .where(work_queue.c.item.in_(candidates), free)
                .values(owner=owner, lease_until=at + timedelta(seconds=seconds))
            )
            rows = conn.execute(
                select(work_queue.c.item, work_queue.c.seq, work_queue.c.attempt)
                .where(self._mine, work_queue.c.item.in_(candidates), work_queue.c.owner == owner)
                .order_by(order)
            ).all()
        return [QueuedItem(row.item, int(row.seq), int(row.attempt)) for row in rows]

    def trim_idle(self, keep: int) -> int:
        """Drops all but the newest ``keep`` items queued for when the worker is idle (a bulk
        import's); returns how many went. Their work is done on demand, if ever asked for."""
        idle = and_(self._mine, work_queue.c.not_before == WHEN_IDLE)
        newest = select(work_queue.c.seq).where(idle).order_by(work_queue.c.seq.desc()).limit(1).offset(keep - 1)
        with self.writer.begin() as conn:
            dropped = conn.execute(delete(work_queue).where(idle, work_queue.c.seq < newest.scalar_subquery()))
        return int(dropped.rowcount)

    def _held(self, owner: str, item: str) -> Any:
        return and_(self._mine, work_queue.c.item == item, work_queue.c.owner == owner)

    def finish(self, owner: str, item: QueuedItem) -> None:
        """Removes a done item, unless a newer event queued it again meanwhile: then it is
        released for the next worker."""
        with self.writer.begin() as conn:
            done = conn.execute(delete(work_queue).where(self._held(owner, item.item), work_queue.c.seq == item.seq))
            if done.rowcount == 0:
                conn.execute(
                    update(work_queue).where(self._held(owner, item.item)).values(owner=None, lease_until=None)
                )

    def retry(self, owner: str, item: QueuedItem, not_before: datetime) -> None:
        """Puts an item off until ``not_before``, counting the attempt."""
        with self.writer.begin() as conn:
            conn.execute(
                update(work_queue)
                .where(self._held(owner, item.item))
                .values(owner=None, lease_until=None, attempt=item.attempt + 1, not_before=not_before)
            )

    def release(self, owner: str, items: Sequence[QueuedItem]) -> None:
        """Gives back leased items that were not worked on (a worker stopping)."""
        if not items:
            return
        with self.writer.begin() as conn:
            conn.execute(
                update(work_queue)
                .where(self._mine, work_queue.c.item.in_([i.item for i in items]), work_queue.c.owner == owner)
                .values(owner=None, lease_until=None)
            )

    def queued(self) -> int:
        """How many items wait (for when the worker is idle included)."""
        with self.reader.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(work_queue).where(self._mine)).scalar_one())

    def queued_for_idle(self) -> int:
        """How many of them wait for when the worker is idle."""
        idle = and_(self._mine, work_queue.c.not_before == WHEN_IDLE)
        with self.reader.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(work_queue).where(idle)).scalar_one())


def positions(reader: Engine) -> dict[str, int]:
    """Every work follower's position by name ("pdf", "email"), as the health answer shows
    them: read from the shared table, so any host can say how far the workers are."""
    with reader.connect() as conn:
        rows = conn.execute(select(work_tracking.c.application_name, work_tracking.c.notification_id)).all()
    return {str(row.application_name): int(row.notification_id) for row in rows}
