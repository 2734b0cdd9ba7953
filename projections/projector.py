"""The projection that turns the event store into read-model rows, exactly once.

Each batch of events is applied in one transaction that also moves the projection's
tracked position, guarded by a compare-and-set on the old position: two processes that
race to apply the same events cannot both commit, and a restart resumes where the last
commit left off. Rebuild drops the tables and replays every event through the very
same handlers, so a rebuilt read model equals the live one.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import resolve_topic
from sqlalchemy import (
    BindParameter,
    Connection,
    Engine,
    Index,
    Table,
    and_,
    bindparam,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import NoResultFound

from database import schema
from database.bulk import BulkInsert
from database.engines import exclusive
from domain.application import CleverInvo
from domain.lifecycle import Facts, derive_status
from domain.money import LineItem
from projections import search
from projections.decoding import EventDecoder
from projections.folding import fold
from projections.stream_checks import StreamChecks
from projections.tables import (
    ACTIVE_CLIENTS,
    LIVE,
    READ_MODEL_TABLES,
    ReadTables,
    invoice_scopes,
    invoices,
    metadata,
    shadow_tables,
    tracking,
)
from storage.work_queue import upsert

BATCH_SIZE = 500
REBUILD_KEY = "read-model-rebuild"  # the position of a rebuild under way beside the live tables
# How a rebuild shares SQLite's write lock with live writers (``_Turns``): each transaction
# holds it at most REBUILD_HOLD_SECONDS (REBUILD_BUSY_HOLD_SECONDS while events are being
# recorded), then pauses REBUILD_PAUSE_SECONDS.
REBUILD_HOLD_SECONDS = 0.5
REBUILD_BUSY_HOLD_SECONDS = 0.15
REBUILD_BUSY_SECONDS = 1.0
REBUILD_PAUSE_SECONDS = 0.05
REBUILD_HOLD_SECONDS_POSTGRES = 2.0
REBUILD_PRAGMAS = {"cache_size": -65_536, "wal_autocheckpoint": 8_000}  # SQLite: 64 MiB, 8,000 pages (``_filling``)
GENERATIONS = ("", "rb_")  # index names alternate between rebuilds: a database shares them


def _prefix_of(tables: ReadTables) -> str:
    """The index-name generation a set of shadow tables was made with."""
    names = [str(index.name) for index in tables.invoices.indexes if index.name]
    return GENERATIONS[1] if any(name.startswith(GENERATIONS[1]) for name in names) else GENERATIONS[0]


def _free_prefix(conn: Connection) -> str:
    """The index-name prefix the live tables do not use (their indexes keep theirs)."""
    names = {index["name"] or "" for index in inspect(conn).get_indexes(invoices.name)}
    return GENERATIONS[0] if any(name.startswith(GENERATIONS[1]) for name in names) else GENERATIONS[1]


# Indexes that handlers find rows by: a rebuild's tables have them while they fill. The
# others (the lists' orders, the search index) are made once the rows are in.
LOOKUP_INDEXES = frozenset({"ix_invoices_client_ref", "ix_invoice_payments_invoice_id", "ix_api_keys_account_id"})
SEARCH_FILL_ROWS = 2_000  # rows put in the search index per statement, when a rebuild builds it


def _deferred(index: Index) -> bool:
    """Whether a rebuild makes this index of its tables only after filling them."""
    return not any(str(index.name).endswith(name) for name in LOOKUP_INDEXES)


class _Turns:
    """How long a rebuild holds each of its transactions, and when it lets live writers in.

    SQLite has one write lock per database and serves no queue of writers: a rebuild that
    took the lock again at once would starve the writers waiting for it. There, each of
    the rebuild's transactions ends after ``REBUILD_HOLD_SECONDS``, or as soon as an event
    is recorded (that write's projection is waiting for the lock), and is followed by a
    pause; for ``REBUILD_BUSY_SECONDS`` after an event, transactions hold at most
    ``REBUILD_BUSY_HOLD_SECONDS``, so a stream of writes waits at most about that long.
    PostgreSQL locks rows, not the database, and the rebuild's tables are its own: long
    transactions (fewer commits), no pause."""

    def __init__(self, app: CleverInvo, sqlite: bool) -> None:
        self.app = app
        self.sqlite = sqlite
        self._seen = app.recorder.max_notification_id() if sqlite else None
        self._busy_until = 0.0

    def deadline(self) -> float:
        """When the transaction beginning now is to end."""
        now = time.monotonic()
        if not self.sqlite:
            return now + REBUILD_HOLD_SECONDS_POSTGRES
        return now + (REBUILD_BUSY_HOLD_SECONDS if now < self._busy_until else REBUILD_HOLD_SECONDS)

    def waiting(self) -> bool:
        """Whether a live writer may be waiting for the lock: an event was recorded since the last look."""
        if not self.sqlite:
            return False
        latest = self.app.recorder.max_notification_id()
        if latest == self._seen:
            return False
        self._seen = latest
        self._busy_until = time.monotonic() + REBUILD_BUSY_SECONDS
        return True

    def take(self) -> None:
        """Between transactions: on SQLite, the writers waiting for the lock go first."""
        if self.sqlite:
            time.sleep(REBUILD_PAUSE_SECONDS)


def _in_turns(conn: Connection, turns: _Turns, step: Callable[[], bool]) -> None:
    """Runs ``step`` (True while there is more to do) in a rebuild's transactions: each
    takes at least one step (a stream of writes does not stop the rebuild), ends at its
    deadline or when a live writer may be waiting, and is followed by ``turns.take()``."""
    more = True
    while more:
        with conn.begin():
            until = turns.deadline()
            more = step()
            while more and time.monotonic() < until and not turns.waiting():
                more = step()
        turns.take()


Handler = Callable[[Connection, Any], None]
CLIENTS_REMEMBERED = 100_000  # a rebuild's memory of client columns, across its batches
ADDING = frozenset({"_client_created", "_invoice_created"})  # handlers that only add new rows


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _line_rows(invoice_id: str, lines: list[LineItem]) -> list[dict[str, Any]]:
    return [
        {
            "invoice_id": invoice_id,
            "position": position,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "tax_rate": line.tax_rate,
            "amount": line.amount,
            "discount_rate": line.discount_rate,
            "discount": line.discount,
        }
        for position, line in enumerate(lines)
    ]


class ReadModelProjector:
    """Applies the application's events to the read-model tables in notification order."""

    def __init__(self, app: CleverInvo, writer: Engine, tables: ReadTables = LIVE, key: str | None = None) -> None:
        self.app = app
        self.writer = writer
        self.t = tables  # the live tables, or a rebuild's beside them
        self.key = key or app.name  # its row in the tracking table
        self._lock = threading.Lock()
        self._closed = False
        self._known_position = -1
        self._by_topic: dict[str, Handler | None] = {}  # a stored topic -> its handler (None: no rows)
        # The live tables are written by every process's projector: what one read is only
        # true within its transaction. A rebuild's are written by the rebuild alone.
        self._sole_writer = False
        # Whether rows go into the search index as they are written; a rebuild's bulk load
        # leaves it out and builds it from the filled tables instead (``projections.search``).
        self._searched = True
        self._clients: dict[str, dict[str, Any]] = {}  # client columns invoices copy, within a batch
        self._deltas: dict[tuple[str, str], int] = {}  # changes to read_counts, within a batch
        # New rows are written a batch at a time (one executemany per table), until an event
        # that reads or changes rows comes: the handlers of ADDING only add rows.
        self._new: dict[str, list[dict[str, Any]]] = {"clients": [], "invoices": [], "lines": []}
        self._decode = EventDecoder(app.mapper)
        # Every event's seal is checked before rows are made of it; a rebuild, which reads
        # every stream from its start, checks their chains too (``projections.stream_checks``).
        self._checks = StreamChecks(chains=False)
        self._bulk: dict[str, BulkInsert] = {}  # by table name: its statement for many new rows
        # Statements run for most events, built once (building one per row costs more than running it).
        invoice_id: BindParameter[str] = bindparam("row_id")
        # An invoice's facts and the amounts of its payments not reversed, in one statement:
        # a row per payment (one with no amount when there is none).
        facts = ("account_id", "client_id", "status", "total", "sent_at", "viewed_at", "overdue_at", "voided_at")
        paid = and_(self.t.payments.c.invoice_id == self.t.invoices.c.id, self.t.payments.c.reversed_at.is_(None))
        self._facts_of_invoice = (
            select(*(self.t.invoices.c[name] for name in facts), self.t.payments.c.amount)
            .select_from(self.t.invoices.outerjoin(self.t.payments, paid))
            .where(self.t.invoices.c.id == invoice_id)
        )
        self._update_invoice = update(self.t.invoices).where(self.t.invoices.c.id == invoice_id)
        # Keyed by event class name: the event classes are made by eventsourcing's @event.
        self._handlers: dict[str, Handler] = {
            "Account.AccountOpened": self._account_opened,
            "Account.PlanChanged": self._plan_changed,
            "Account.AccountUpdated": self._account_updated,
            "Account.ApiKeyIssued": self._key_issued,
            "Account.ApiKeyRevoked": self._key_revoked,
            "Client.ClientCreated": self._client_created,
            "Client.ClientUpdated": self._client_updated,
            "Client.ClientDeactivated": self._client_active(False),
            "Client.ClientReactivated": self._client_active(True),
            "Invoice.InvoiceCreated": self._invoice_created,
            "Invoice.InvoiceUpdated": self._invoice_updated,
            "Invoice.InvoiceDeleted": self._invoice_deleted,
            "Invoice.InvoiceSent": self._invoice_sent,
            "Invoice.InvoiceViewed": self._invoice_fact("viewed_at"),
            "Invoice.InvoiceMarkedOverdue": self._invoice_fact("overdue_at"),
            "Invoice.InvoiceVoided": self._invoice_voided,
            "Invoice.PaymentRecorded": self._payment_recorded,
            "Invoice.PaymentReversed": self._payment_reversed,
            "Invoice.EmailDelivered": self._email_outcome("delivered"),
            "Invoice.EmailFailed": self._email_outcome("failed"),
        }

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
                        reached, more = self._apply_batch(conn)
                except BaseException:  # rolled back (or its outcome unknown): nothing cached is trusted
                    self._clients.clear()
                    self._forget_unwritten()
                    raise
                self._known_position = reached
                if not more:
                    return reached
            return self._known_position

    def close(self) -> None:
        """Waits for a catch-up under way (a follower's thread outlives the task that started
        it when the task is cancelled) and makes later ones do nothing: the stores' connections
        are closed next, and a query on a closed SQLite connection from another thread can
        crash the process."""
        with self._lock:
            self._closed = True

    def rebuild(self) -> int:
        """Rebuilds every read-model table from the events beside the live ones, then
        switches them in one short transaction; returns the position.

        The new tables (``rebuild_*``) fill in batches of their own transactions, so writes
        and their read-your-writes go on meanwhile; only the last events and the switch
        (drop the live tables, rename the new ones) hold the write lock. They fill without
        the indexes that no handler finds rows by, and without the search index: both are
        built once from the filled tables (faster than keeping them row by row), before the
        events recorded meanwhile are applied. A rebuild killed on the way leaves the live
        tables as they were; the next one drops what it left. So does one that meets a
        stream whose seals do not verify: it stops with ``Unverified`` naming the stream."""
        with self.writer.begin() as conn:
            shadow = shadow_tables(_free_prefix(conn))
            tables = list(shadow.all)
            for table in shadow.searched:
                search.drop(conn, table)
            tables[0].metadata.drop_all(conn, tables=tables)
            deferred = [index for table in tables for index in list(table.indexes) if _deferred(index)]
            for index in deferred:
                index.table.indexes.discard(index)  # type: ignore[union-attr]
            tables[0].metadata.create_all(conn, tables=tables)
            conn.execute(delete(tracking).where(tracking.c.application_name == REBUILD_KEY))
            conn.execute(insert(tracking).values(application_name=REBUILD_KEY, notification_id=0))
        builder = ReadModelProjector(self.app, self.writer, shadow, REBUILD_KEY)
        builder._sole_writer = True  # nobody else writes the new tables: what it read stays true
        builder._searched = False
        builder._checks = StreamChecks(chains=True)  # an unverifiable stream stops the rebuild, naming it
        turns = _Turns(self.app, self.writer.dialect.name == "sqlite")
        with self._filling() as conn:
            self._fill(conn, builder, turns)
            for index in deferred:
                with conn.begin():
                    index.create(conn)
                turns.take()
            for table in shadow.searched:
                self._build_search(conn, table, _prefix_of(shadow), turns)
            builder._searched = True
            self._fill(conn, builder, turns)  # what was recorded meanwhile, now with every index
            if conn.dialect.name == "postgresql":
                # Statistics for the planner, which the renamed tables keep: filled by COPY and
                # never analysed, a status page was planned for 3 rows of 75,000 (227 ms, 4.8
                # after ANALYZE). SQLite's queries are written for no statistics.
                for table in shadow.all:
                    with conn.begin():
                        conn.exec_driver_sql(f'ANALYZE "{table.name}"')
        with self._lock, self.writer.begin() as conn:
            self._read_position(conn)  # other processes' projectors wait for the switch (PostgreSQL)
            more = True
            while more:  # what was written since, inside the switch
                reached, more = builder._apply_batch(conn)
            for table in LIVE.searched:
                search.drop(conn, table)
            metadata.drop_all(conn, tables=list(READ_MODEL_TABLES))
            for new, live in zip(shadow.all, READ_MODEL_TABLES, strict=True):
                conn.execute(text(f'ALTER TABLE "{new.name}" RENAME TO "{live.name}"'))
            for new, live in zip(shadow.searched, LIVE.searched, strict=True):
                search.rename(conn, new, live)
            conn.execute(
                update(tracking).where(tracking.c.application_name == self.key).values(notification_id=reached)
            )
            conn.execute(delete(tracking).where(tracking.c.application_name == REBUILD_KEY))
            self._known_position = reached
            return reached

    @contextmanager
    def _filling(self) -> Iterator[Connection]:
        """The connection a rebuild fills its tables on. On SQLite with a larger page cache
        (the new tables' B-trees take random keys) and a checkpoint every few thousand pages
        rather than every thousand (pages a rebuild writes again and again are copied to the
        database once): both set back after, as the connection goes back to the pool."""
        with self.writer.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                before = [int(conn.exec_driver_sql(f"PRAGMA {name}").scalar_one()) for name in REBUILD_PRAGMAS]
                for name, value in REBUILD_PRAGMAS.items():
                    conn.exec_driver_sql(f"PRAGMA {name}={int(value)}")
                conn.commit()
            try:
                yield conn
            finally:
                if sqlite:
                    conn.rollback()
                    for name, old in zip(REBUILD_PRAGMAS, before, strict=True):
                        conn.exec_driver_sql(f"PRAGMA {name}={old}")
                    conn.commit()

    def _fill(self, conn: Connection, builder: "ReadModelProjector", turns: "_Turns") -> None:
        """Applies the events to a rebuild's tables up to the last one recorded."""
        _in_turns(conn, turns, lambda: builder._apply_batch(conn)[1])

    def _build_search(self, conn: Connection, table: Table, index_prefix: str, turns: "_Turns") -> None:
        """The search index of a rebuild's filled table: made, then filled a rowid range at a time."""
        with conn.begin():
            search.create(conn, table, index_prefix)
        last = 0

        def step() -> bool:
            nonlocal last
            reached = search.fill(conn, table, last, SEARCH_FILL_ROWS)
            if reached is None:
                return False
            last = reached
            return True

        _in_turns(conn, turns, step)

    # --- mechanics ------------------------------------------------------------------

    def _read_position(self, conn: Connection) -> int | None:
        query = select(tracking.c.notification_id).where(tracking.c.application_name == self.key)
        value = conn.execute(query.with_for_update()).scalar_one_or_none()
        return None if value is None else int(value)

    def _apply_batch(self, conn: Connection) -> tuple[int, bool]:
        """Applies the next batch after the stored position; returns (position, maybe more)."""
        position = self._read_position(conn) or 0
        notifications = self.app.recorder.select_notifications(
            start=position, limit=BATCH_SIZE, inclusive_of_start=False
        )
        if not notifications:
            return position, False
        if not self._sole_writer or len(self._clients) > CLIENTS_REMEMBERED:
            self._clients.clear()
        self._forget_unwritten()
        for notification in notifications:
            self._checks.check(notification)
            # Decoded only when it makes rows: most events (quotas, numbers) make none.
            handler = self._handler_of(notification.topic)
            if handler is not None:
                if handler.__name__ not in ADDING:
                    self._flush_new(conn)
                handler(conn, self._decode(notification))
        self._flush_new(conn)
        self._flush_counts(conn)
        reached = notifications[-1].id
        moved = conn.execute(
            update(tracking)
            .where(tracking.c.application_name == self.key, tracking.c.notification_id == position)
            .values(notification_id=reached)
        )
        if moved.rowcount != 1:
            raise RuntimeError("The projection's position moved under a locked transaction")
        return reached, len(notifications) == BATCH_SIZE

    def _forget_unwritten(self) -> None:
        """Drops what a failed batch buffered and never wrote (its transaction rolled back,
        a connection lost mid-way): the batch is read again from the stored position, and
        rows kept from the failed try were inserted twice (a duplicate key, every try)."""
        self._deltas.clear()
        for rows in self._new.values():
            rows.clear()

    def _handler_of(self, topic: str) -> Handler | None:
        try:
            return self._by_topic[topic]
        except KeyError:
            handler = self._handlers.get(resolve_topic(topic).__qualname__)
            self._by_topic[topic] = handler
            return handler

    def apply(self, conn: Connection, domain_event: DomainEventProtocol[Any]) -> None:
        handler = self._handlers.get(type(domain_event).__qualname__)
        if handler is not None:  # quota and index aggregates have no rows
            self._clients.clear()
            self._forget_unwritten()
            handler(conn, domain_event)
            self._flush_new(conn)
            self._flush_counts(conn)

    def _flush_new(self, conn: Connection) -> None:
        """Writes the rows the batch added so far, a table at a time, and indexes them."""
        new = self._new
        if new["clients"]:
            self._insert(conn, self.t.clients, new["clients"])
            if self._searched:
                search.add_all(conn, self.t.clients, [row["id"] for row in new["clients"]])
            new["clients"].clear()
        if new["invoices"]:
            self._insert(conn, self.t.invoices, new["invoices"])
            self._insert(conn, self.t.line_items, new["lines"])
            if self._searched:
                search.add_all(conn, self.t.invoices, [row["id"] for row in new["invoices"]])
            new["invoices"].clear()
            new["lines"].clear()

    def _insert(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        bulk = self._bulk.get(table.name)
        if bulk is None:
            bulk = self._bulk[table.name] = BulkInsert(table, conn)
        bulk(conn, rows)

    def _unindex(self, conn: Connection, table: Table, column: str, value: str) -> None:
        if self._searched:
            search.remove(conn, table, column, value)

    def _reindex(self, conn: Connection, table: Table, column: str, value: str) -> None:
        if self._searched:
            search.add(conn, table, column, value)

    # --- counts ---------------------------------------------------------------------

    def _count(self, account_id: str, scope: str, delta: int) -> None:
        key = (account_id, scope)
        self._deltas[key] = self._deltas.get(key, 0) + delta

    def _count_invoice(self, row: Any, delta: int) -> None:
        """An invoice (``account_id``, ``client_id``, ``status``) enters or leaves the lists."""
        account, client, status = str(row["account_id"]), str(row["client_id"]), str(row["status"])
        for scope in invoice_scopes(client, status):
            self._count(account, scope, delta)

    def _flush_counts(self, conn: Connection) -> None:
        """Adds the batch's changes to ``read_counts`` (a scope touched keeps its row, even
        at zero, so the live read model and a rebuilt one have the same rows)."""
        if not self._deltas:
            return
        rows = [{"account_id": a, "scope": scope, "n": n} for (a, scope), n in self._deltas.items()]
        statement = upsert(conn, self.t.counts)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["account_id", "scope"], set_={"n": self.t.counts.c.n + statement.excluded.n}
            ),
            rows,
        )
        self._deltas.clear()

    # --- accounts and keys -----------------------------------------------------------

    def _account_opened(self, conn: Connection, e: Any) -> None:
        at = _naive_utc(e.timestamp)
        conn.execute(
            insert(self.t.accounts).values(
                id=str(e.originator_id), name=e.name, plan=e.plan, locale=e.locale, created_at=at, updated_at=at
            )
        )

    def _plan_changed(self, conn: Connection, e: Any) -> None:
        conn.execute(
            update(self.t.accounts)
            .where(self.t.accounts.c.id == str(e.originator_id))
            .values(plan=e.plan, updated_at=_naive_utc(e.timestamp))
        )

    def _account_updated(self, conn: Connection, e: Any) -> None:
        conn.execute(
            update(self.t.accounts)
            .where(self.t.accounts.c.id == str(e.originator_id))
            .values(**e.changes, updated_at=_naive_utc(e.timestamp))
        )

    def _key_issued(self, conn: Connection, e: Any) -> None:
        conn.execute(
            insert(self.t.api_keys).values(
                id=str(e.key_id),
                account_id=str(e.originator_id),
                name=e.name,
                key_hash=e.key_hash,
                prefix=e.prefix,
                created_at=_naive_utc(e.timestamp),
            )
        )

    def _key_revoked(self, conn: Connection, e: Any) -> None:
        conn.execute(
            update(self.t.api_keys)
            .where(self.t.api_keys.c.id == str(e.key_id))
            .values(revoked_at=_naive_utc(e.timestamp))
        )

    # --- clients ------------------------------------------------------------------

    def _client_created(self, conn: Connection, e: Any) -> None:
        at = _naive_utc(e.timestamp)
        client_id = str(e.originator_id)
        self._new["clients"].append(
            {
                "id": client_id,
                "account_id": str(e.account_id),
                "name": e.name,
                "email": e.email,
                "address": e.address,
                "tax_id": e.tax_id,
                "phone": e.phone,
                "notes": e.notes,
                "is_active": True,
                "created_at": at,
                "updated_at": at,
                "name_folded": fold(e.name),
                "email_folded": fold(e.email),
            }
        )
        self._count(str(e.account_id), ACTIVE_CLIENTS, 1)
        self._clients[client_id] = _client_values(e.name, e.email)

    def _client_updated(self, conn: Connection, e: Any) -> None:
        client_id = str(e.originator_id)
        values: dict[str, Any] = dict(e.changes)
        for field in ("name", "email"):
            if field in values:
                values[f"{field}_folded"] = fold(values[field])
        searched = "name" in values or "email" in values
        if searched:
            self._unindex(conn, self.t.clients, "id", client_id)
        conn.execute(
            update(self.t.clients)
            .where(self.t.clients.c.id == client_id)
            .values(**values, updated_at=_naive_utc(e.timestamp))
        )
        self._clients.pop(client_id, None)
        denormalised = {
            f"client_{key}": value
            for key, value in values.items()
            if key in ("name", "email", "name_folded", "email_folded")
        }
        if searched:
            self._reindex(conn, self.t.clients, "id", client_id)
            self._unindex(conn, self.t.invoices, "client_id", client_id)
        if denormalised:
            conn.execute(update(self.t.invoices).where(self.t.invoices.c.client_id == client_id).values(**denormalised))
        if searched:
            self._reindex(conn, self.t.invoices, "client_id", client_id)

    def _client_active(self, active: bool) -> Handler:
        def handler(conn: Connection, e: Any) -> None:
            row = conn.execute(
                select(self.t.clients.c.account_id, self.t.clients.c.is_active).where(
                    self.t.clients.c.id == str(e.originator_id)
                )
            ).one()
            if bool(row.is_active) != active:
                self._count(str(row.account_id), ACTIVE_CLIENTS, 1 if active else -1)
            conn.execute(
                update(self.t.clients)
                .where(self.t.clients.c.id == str(e.originator_id))
                .values(is_active=active, updated_at=_naive_utc(e.timestamp))
            )

        return handler

    # --- invoices -------------------------------------------------------------------

    def _client_columns(self, conn: Connection, client_id: str) -> dict[str, Any]:
        found = self._clients.get(client_id)
        if found is None:
            row = conn.execute(
                select(self.t.clients.c.name, self.t.clients.c.email).where(self.t.clients.c.id == client_id)
            ).one()
            found = self._clients[client_id] = _client_values(row.name, row.email)
        return found

    def _invoice_created(self, conn: Connection, e: Any) -> None:
        at = _naive_utc(e.timestamp)
        invoice_id = str(e.originator_id)
        self._new["invoices"].append(
            {
                "id": invoice_id,
                "account_id": str(e.account_id),
                "client_id": str(e.client_id),
                "invoice_number": e.number,
                "currency": e.currency,
                "issue_date": e.issue_date,
                "due_date": e.due_date,
                "subtotal": e.subtotal,
                "tax_total": e.tax_total,
                "discount_total": e.discount_total,
                "total": e.total,
                "status": "DRAFT",
                "amount_paid": _zero_like(e.total),
                "sends": 0,
                "balance_due": e.total,
                "notes": e.notes,
                "terms": e.terms,
                "sent_via_email": False,
                "version": e.originator_version,
                "created_at": at,
                "updated_at": at,
                "number_folded": fold(e.number),
                **self._client_columns(conn, str(e.client_id)),
            }
        )
        self._new["lines"].extend(_line_rows(invoice_id, e.line_items))
        self._count_invoice({"account_id": e.account_id, "client_id": e.client_id, "status": "DRAFT"}, 1)

    def _invoice_updated(self, conn: Connection, e: Any) -> None:
        invoice_id = str(e.originator_id)
        values: dict[str, Any] = dict(e.changes)
        if "number" in values:
            values["invoice_number"] = values.pop("number")
            values["number_folded"] = fold(values["invoice_number"])
        moved = "client_id" in values
        if moved:
            values["client_id"] = str(values["client_id"])
            values.update(self._client_columns(conn, values["client_id"]))
            before = conn.execute(
                select(self.t.invoices.c.account_id, self.t.invoices.c.client_id, self.t.invoices.c.status).where(
                    self.t.invoices.c.id == invoice_id
                )
            ).one()
            self._count_invoice(before._mapping, -1)
            self._count_invoice({**before._mapping, "client_id": values["client_id"]}, 1)
        searched = moved or "invoice_number" in values
        if searched:
            self._unindex(conn, self.t.invoices, "id", invoice_id)
        if "total" in values:  # only a draft changes, and a draft has nothing paid
            values["balance_due"] = values["total"]
        lines = values.pop("line_items", None)
        if lines is not None:
            conn.execute(delete(self.t.line_items).where(self.t.line_items.c.invoice_id == invoice_id))
            self._insert(conn, self.t.line_items, _line_rows(invoice_id, lines))
        conn.execute(
            update(self.t.invoices)
            .where(self.t.invoices.c.id == invoice_id)
            .values(**values, version=e.originator_version, updated_at=_naive_utc(e.timestamp))
        )
        if searched:
            self._reindex(conn, self.t.invoices, "id", invoice_id)

    def _invoice_deleted(self, conn: Connection, e: Any) -> None:
        invoice_id = str(e.originator_id)
        row = conn.execute(
            select(self.t.invoices.c.account_id, self.t.invoices.c.client_id, self.t.invoices.c.status).where(
                self.t.invoices.c.id == invoice_id
            )
        ).one()
        self._count_invoice(row._mapping, -1)
        self._unindex(conn, self.t.invoices, "id", invoice_id)
        conn.execute(delete(self.t.line_items).where(self.t.line_items.c.invoice_id == invoice_id))
        conn.execute(delete(self.t.payments).where(self.t.payments.c.invoice_id == invoice_id))
        conn.execute(delete(self.t.invoices).where(self.t.invoices.c.id == invoice_id))

    # --- the invoice's life -------------------------------------------------------------

    def _lifecycle(
        self, conn: Connection, e: Any, values: dict[str, Any], *, sent_at: datetime | None = None, settle: bool = False
    ) -> None:
        """Writes new facts, then the status and balance that follow from all of them, in one
        UPDATE. ``sent_at``: the moment of a send, kept only if it is the first. ``settle``:
        ``paidAt`` follows the balance (when it reached zero; a reversal that reopens it clears it)."""
        invoice_id = str(e.originator_id)
        rows = conn.execute(self._facts_of_invoice, {"row_id": invoice_id}).all()
        if not rows:
            raise NoResultFound(f"No invoice {invoice_id} in the read model for {type(e).__qualname__}")
        found = rows[0]._mapping
        if sent_at is not None:
            settle = found["sent_at"] is None  # issued with nothing to pay (a zero total): paid as it is sent
            values["sent_at"] = found["sent_at"] or sent_at
        row = {**found, **values}
        del row["amount"]
        total = row["total"]
        amount_paid = sum((paid.amount for paid in rows if paid.amount is not None), _zero_like(total))
        facts = Facts(row["sent_at"], row["viewed_at"], row["overdue_at"], row["voided_at"], amount_paid, total)
        balance_due = _zero_like(total) if row["voided_at"] is not None else total - amount_paid  # void: none
        status = derive_status(facts)
        if status != row["status"]:
            self._count_invoice(row, -1)
            self._count_invoice({**row, "status": status}, 1)
        values.update(
            status=status,
            amount_paid=amount_paid,
            balance_due=balance_due,
            version=e.originator_version,
            updated_at=_naive_utc(e.timestamp),
        )
        if settle:
            values["paid_at"] = _naive_utc(e.at) if balance_due <= 0 else None
        conn.execute(self._update_invoice, {"row_id": invoice_id, **values})

    def _invoice_sent(self, conn: Connection, e: Any) -> None:
        values: dict[str, Any] = {"share_token": e.share_token, "sends": e.number}
        if e.email:
            values.update(sent_via_email=True, emailed_send=e.number, email_status="queued", email_reply=None)
        self._lifecycle(conn, e, values, sent_at=_naive_utc(e.at))

    def _invoice_fact(self, column: str) -> Handler:
        def handler(conn: Connection, e: Any) -> None:
            self._lifecycle(conn, e, {column: _naive_utc(e.at)})

        return handler

    def _invoice_voided(self, conn: Connection, e: Any) -> None:
        self._lifecycle(conn, e, {"voided_at": _naive_utc(e.at), "void_reason": e.reason})

    def _payment_recorded(self, conn: Connection, e: Any) -> None:
        row = {
            "id": str(e.payment_id),
            "invoice_id": str(e.originator_id),
            "amount": e.amount,
            "paid_on": e.paid_on,
            "method": e.method,
            "reference": e.reference,
            "recorded_at": _naive_utc(e.at),
        }
        conn.execute(insert(self.t.payments), [row])
        self._lifecycle(conn, e, {}, settle=True)

    def _payment_reversed(self, conn: Connection, e: Any) -> None:
        conn.execute(
            update(self.t.payments)
            .where(self.t.payments.c.id == str(e.payment_id))
            .values(reversed_at=_naive_utc(e.at))
        )
        self._lifecycle(conn, e, {}, settle=True)

    def _email_outcome(self, outcome: str) -> Handler:
        def handler(conn: Connection, e: Any) -> None:
            this = self.t.invoices.c.id == str(e.originator_id)
            conn.execute(update(self.t.invoices).where(this).values(version=e.originator_version))
            conn.execute(
                update(self.t.invoices)
                .where(this, self.t.invoices.c.emailed_send == e.send)
                .values(email_status=outcome, email_reply=getattr(e, "reply", None))
            )

        return handler


def _client_values(name: str, email: str | None) -> dict[str, Any]:
    """What an invoice copies of its client (and searches by)."""
    return {
        "client_name": name,
        "client_email": email,
        "client_name_folded": fold(name),
        "client_email_folded": fold(email),
    }


def _zero_like(amount: Decimal) -> Decimal:
    """Zero at the amount's scale: nothing paid of 5500.00 is 0.00."""
    return Decimal(0).quantize(amount)
