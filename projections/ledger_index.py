"""The ledger follower: each event's hash and its account's running digest, by position.

It reads the event store in commit order (notification ids are positions) and records,
for every event, its account, aggregate, version, topic, the hash of its content
(``domain.ledger.stored_hash``) and the account's digest after it
(``domain.ledger.next_digest`` over the account's events in commit order, from
``GENESIS``). Each batch is written in one transaction that also moves the follower's
position with a compare-and-set on the old one, as ``storage.work_queue`` does: when
several processes catch up at once (the API in a request, every ``cleverinvo workers``),
one of them records each batch and the others move on from where it left the position,
so no event is recorded twice or skipped.

``ledger_entries`` is evidence, not a read model: a read-model rebuild leaves it alone,
and ``cleverinvo ledger verify`` checks the store against it.
"""

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, Notification
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    Table,
    insert,
    select,
    update,
)

from database.metadata import POSITION, UUID_LEN, metadata, tracking_table
from database.schema import ensure_migrated
from database.statements import upsert
from domain.application import CleverInvo
from domain.ledger import GENESIS, LEDGER, account_of_first, event_hash, next_digest, parse_state

BATCH = 500  # events recorded per transaction
FOLLOWER = "ledger"

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("position", POSITION, primary_key=True, autoincrement=False),  # the notification id
    Column("account_id", String(UUID_LEN), nullable=False),
    Column("aggregate_id", String(UUID_LEN), nullable=False),
    Column("version", Integer, nullable=False),
    Column("topic", String(255), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("digest", String(64), nullable=False),  # the account's running digest after this event
    Column("recorded_at", DateTime, nullable=False),  # the event's timestamp, naive UTC
    Index("ix_ledger_entries_account", "account_id", "position"),
)

ledger_tracking = tracking_table("ledger_tracking")


@dataclass(frozen=True)
class LedgerDigest:
    """An account's digest through ``position``, its latest event (recorded ``at``)."""

    position: int
    digest: str
    at: datetime  # aware, UTC


@dataclass(frozen=True)
class LedgerEntry:
    position: int
    account_id: str
    aggregate_id: str
    version: int
    topic: str
    hash: str
    digest: str
    recorded_at: datetime  # aware, UTC


@dataclass(frozen=True)
class _Read:
    """One event as read from the store, before its digest is known."""

    position: int
    account_id: str
    aggregate_id: str
    version: int
    topic: str
    hash: str
    recorded_at: datetime


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        int(row.position),
        row.account_id,
        row.aggregate_id,
        int(row.version),
        row.topic,
        row.hash,
        row.digest,
        _aware(row.recorded_at),
    )


class LedgerIndex:
    """The follower and what it recorded (``ensure_schema`` before first use)."""

    def __init__(self, writer: Engine, reader: Engine, app: CleverInvo, batch: int = BATCH) -> None:
        self.writer = writer
        self.reader = reader
        self.app = app
        self.batch = batch
        self._lock = threading.Lock()  # one catch-up at a time in this process; others race by position
        self._known_position = -1

    def ensure_schema(self) -> None:
        ensure_migrated(self.writer)
        with self.writer.begin() as conn:
            if self._position(conn) is None:  # racing starts: one insert lands
                row = {"application_name": FOLLOWER, "notification_id": 0}
                conn.execute(upsert(conn, ledger_tracking).values(row).on_conflict_do_nothing())

    # --- following ---------------------------------------------------------------------

    def position(self) -> int:
        """How far the follower has recorded the store."""
        with self.reader.connect() as conn:
            return self._position(conn) or 0

    def catch_up(self, *, batches: int | None = None) -> int:
        """Records every event stored so far (or at most ``batches`` batches of them);
        returns the position reached."""
        with self._lock:
            latest = self.app.recorder.max_notification_id() or 0
            if latest <= self._known_position:
                return self._known_position
            done = 0
            while (start := self.position()) < latest and (batches is None or done < batches):
                notes = self.app.recorder.select_notifications(
                    start=start, limit=self.batch, stop=latest, inclusive_of_start=False
                )
                end = notes[-1].id if notes else latest
                self._record(start, end, self._read(notes))  # False: another process did; go on from there
                done += 1
            self._known_position = reached = self.position()
            return reached

    def _position(self, conn: Connection) -> int | None:
        query = select(ledger_tracking.c.notification_id).where(ledger_tracking.c.application_name == FOLLOWER)
        value = conn.execute(query).scalar_one_or_none()
        return None if value is None else int(value)

    def _read(self, notes: Sequence[Notification]) -> list[_Read]:
        mapper = self.app.mapper
        firsts: dict[str, str] = {}  # aggregate -> account, within this batch
        read = []
        for note in notes:
            state = parse_state(note.state)
            aggregate_id, version = str(note.originator_id), note.originator_version
            domain_event = mapper.to_domain_event(note)
            seal = state.get(LEDGER)
            if isinstance(seal, dict) and isinstance(seal.get("account"), str):
                account = str(seal["account"])
            elif version == 1:  # recorded before sealing: the first event names the account
                account = account_of_first(domain_event)
            else:
                account = firsts.get(aggregate_id) or self._first_account(mapper, note.originator_id)
            firsts.setdefault(aggregate_id, account)
            moment = getattr(domain_event, "timestamp", None)
            if not isinstance(moment, datetime):
                raise TypeError(f"The event at position {note.id} has no timestamp")
            digest_of = event_hash(aggregate_id, version, note.topic, state)
            read.append(_Read(note.id, account, aggregate_id, version, note.topic, digest_of, moment.astimezone(UTC)))
        return read

    def _first_account(self, mapper: Mapper[UUID], aggregate_id: UUID | str) -> str:
        """An unsealed event's account, from its aggregate's first event (as the sealing does)."""
        first = self.app.recorder.select_events(aggregate_id, lte=1, limit=1)
        return account_of_first(mapper.to_domain_event(first[0])) if first else str(aggregate_id)

    def _record(self, start: int, end: int, events: list[_Read]) -> bool:
        """Moves the position from ``start`` to ``end`` and records ``events`` with their
        accounts' digests, in one transaction; False, with nothing done, if another
        process moved the position first."""
        with self.writer.begin() as conn:
            moved = conn.execute(
                update(ledger_tracking)
                .where(ledger_tracking.c.application_name == FOLLOWER, ledger_tracking.c.notification_id == start)
                .values(notification_id=end)
            )
            if moved.rowcount != 1:
                return False
            digests: dict[str, str] = {}
            rows = []
            for event in events:
                account = event.account_id
                before = digests.get(account) or self._latest_digest(conn, account)
                digests[account] = digest = next_digest(before, event.hash)
                rows.append(
                    {
                        "position": event.position,
                        "account_id": account,
                        "aggregate_id": event.aggregate_id,
                        "version": event.version,
                        "topic": event.topic,
                        "hash": event.hash,
                        "digest": digest,
                        "recorded_at": event.recorded_at.replace(tzinfo=None),
                    }
                )
            if rows:
                conn.execute(insert(ledger_entries), rows)
        return True

    def _latest_digest(self, conn: Connection, account_id: str) -> str:
        query = (
            select(ledger_entries.c.digest)
            .where(ledger_entries.c.account_id == account_id)
            .order_by(ledger_entries.c.position.desc())
            .limit(1)
        )
        return conn.execute(query).scalar_one_or_none() or GENESIS

    # --- reading -----------------------------------------------------------------------

    def digest(self, account_id: str) -> LedgerDigest | None:
        """The account's digest after its latest recorded event; None if it has none."""
        query = (
            select(ledger_entries.c.position, ledger_entries.c.digest, ledger_entries.c.recorded_at)
            .where(ledger_entries.c.account_id == account_id)
            .order_by(ledger_entries.c.position.desc())
            .limit(1)
        )
        with self.reader.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else LedgerDigest(int(row.position), row.digest, _aware(row.recorded_at))

    def feed(self, account_id: str, after: int, limit: int) -> list[int]:
        """The positions of the account's recorded events after ``after``, ascending, at
        most ``limit``: a prefix of commit order, never a gap or a repeat."""
        query = (
            select(ledger_entries.c.position)
            .where(ledger_entries.c.account_id == account_id, ledger_entries.c.position > after)
            .order_by(ledger_entries.c.position)
            .limit(limit)
        )
        with self.reader.connect() as conn:
            return [int(position) for position in conn.execute(query).scalars()]

    def entries(self, after: int, limit: int, account_id: str | None = None) -> list[LedgerEntry]:
        """What the follower recorded after ``after`` (of one account, or all), ascending."""
        query = select(ledger_entries).where(ledger_entries.c.position > after)
        if account_id is not None:
            query = query.where(ledger_entries.c.account_id == account_id)
        with self.reader.connect() as conn:
            rows = conn.execute(query.order_by(ledger_entries.c.position).limit(limit)).all()
        return [_entry(row) for row in rows]
