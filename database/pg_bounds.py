"""Every wait on PostgreSQL bounded, and a lost server found again at once.

A database that is down, restarting or unreachable must cost a request a bounded wait and
an outage answer (``gateway/http/outages.py``), never a hang; and once it is back, the next
request must find it. The bounds (settings, ``gateway/settings.py``; documented in the
README) hold for both the read models' engines (SQLAlchemy) and the event store's pool
(eventsourcing's psycopg pool):

- ``connect``: libpq's ``connect_timeout`` for each new connection, and TCP keepalives plus
  ``tcp_user_timeout`` so a connection to a host that vanished fails in about as long
  instead of the kernel's minutes;
- ``pool``: how long a request waits for a connection from a pool;
- ``statement``: PostgreSQL's ``statement_timeout`` for every statement;
- ``lock``: PostgreSQL's ``lock_timeout`` for every lock a statement waits for.

psycopg_pool re-opens a lost connection with exponential backoff (1, 2, 4, 8 s ...): after
a 20 s outage its next try could come 8 s after the server was back, and every request
waited for it. The event store's pool here retries every ``RECONNECT_EVERY`` seconds at
most, so the server is found again within a second of its return; SQLAlchemy's engines
connect on demand and test a pooled connection before use (``pool_pre_ping``), and drop the
whole pool on a disconnect.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore, PostgresFactory
from eventsourcing.utils import Environment, EnvType
from psycopg.rows import DictRow, dict_row
from psycopg.types.composite import register_composite
from psycopg_pool.base import AttemptWithBackoff

from database.bounds import Bounds
from database.event_transactions import UnitOfWork, open_connection, raw_connection

FACTORY_TOPIC = "database.pg_bounds:BoundedPostgresFactory"
# The event store's environment keys for the bounds eventsourcing does not read itself.
LIBPQ_CONNECT_TIMEOUT = "CLEVERINVO_CONNECT_TIMEOUT"
STATEMENT_TIMEOUT = "CLEVERINVO_STATEMENT_TIMEOUT"
RECONNECT_EVERY = 0.5  # seconds, at most, between attempts to reconnect a pool's connection


class _PromptAttempt(AttemptWithBackoff):
    """psycopg_pool's reconnection attempt, its delay capped at ``RECONNECT_EVERY``."""

    INITIAL_DELAY = 0.2

    def update_delay(self, now: float) -> None:
        super().update_delay(now)
        self.delay = min(self.delay, RECONNECT_EVERY)


_insert_once = PostgresApplicationRecorder.insert_events.__wrapped__  # the undecorated function (functools.wraps)


class OnceApplicationRecorder(PostgresApplicationRecorder):
    """eventsourcing's application recorder, writing events in one attempt. Its own
    ``insert_events`` retries on a lost connection (10 attempts): after a COMMIT whose
    answer was lost the events are stored, the retry meets their versions
    (IntegrityError), and the application runs the command again: a second client, a
    second payment. One attempt, and the lost answer is the caller's to settle
    (``gateway/http/outages.py``: 503, Write-Saved: unknown; a keyed retry finds the events)."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        datastore = self.datastore
        if open_connection(getattr(datastore, "unit", None)) is None or not stored_events:
            return _insert_once(self, stored_events, **kwargs)
        # In a command's transaction: no pipeline and no savepoint of its own (a racing
        # version's unique violation inside psycopg's pipeline surfaced as "transaction
        # aborted" on the pipeline's exit, not as the IntegrityError that runs the command
        # again); the table lock and the insert, as eventsourcing's own statements.
        with datastore.get_connection() as conn, conn.cursor() as cursor:
            self._insert_stored_events(cursor, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(cursor, stored_events, **kwargs)


class _Borrowed:
    """A unit of work's psycopg connection as eventsourcing's recorders use one of their
    pool's: cursors give rows as dicts, and it reads as autocommit (the one recorder that
    asks, the snapshots', only asserts it; its statements run in the unit's transaction)."""

    autocommit = True

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self._raw = raw

    def cursor(self, *args: Any, **kwargs: Any) -> psycopg.Cursor[DictRow]:
        cursor: psycopg.Cursor[DictRow] = self._raw.cursor(*args, row_factory=dict_row, **kwargs)
        return cursor

    def __getattr__(self, name: str) -> Any:  # pipeline(), transaction() (a savepoint), adapters
        return getattr(self._raw, name)


class SharedPostgresDatastore(PostgresDatastore):
    """eventsourcing's PostgreSQL datastore, which inside an open ``UnitOfWork``
    (``database.event_transactions``) hands out the unit's connection instead of one of
    its pool's, so a command's reads, events and read-model rows are one transaction."""

    unit: UnitOfWork | None = None

    @contextmanager
    def get_connection(self) -> Iterator[psycopg.Connection[DictRow]]:
        conn = open_connection(self.unit)
        if conn is None:
            with super().get_connection() as own:
                yield own
            return
        raw = raw_connection(conn)
        for info in self.psycopg_type_adapters.values():
            if not raw.adapters.types.get(info.oid):
                register_composite(info, raw)
        try:
            yield _Borrowed(raw)  # type: ignore[misc]
        except psycopg.IntegrityError as exc:  # a racing version: the command is run again
            raise IntegrityError(str(exc)) from exc
        except psycopg.OperationalError as exc:  # told apart by database/faults.py along the chain
            raise OperationalError(str(exc)) from exc

    @contextmanager
    def transaction(self, *, commit: bool = False) -> Iterator[psycopg.Cursor[DictRow]]:
        if open_connection(self.unit) is None:
            with super().transaction(commit=commit) as cursor:
                yield cursor
            return
        with self.get_connection() as conn:
            yield conn.cursor()


class BoundedPostgresFactory(PostgresFactory):
    """eventsourcing's PostgreSQL persistence with the bounds above: its pool waits
    ``POSTGRES_CONNECT_TIMEOUT`` seconds for a connection (what eventsourcing names so),
    pings a pooled connection before use (``POSTGRES_PRE_PING``), and each connection
    takes libpq's connect timeout and keepalives and the statement timeout; events are
    written in one attempt (``OnceApplicationRecorder``)."""

    application_recorder_class = OnceApplicationRecorder

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        self.datastore.__class__ = SharedPostgresDatastore  # the stock one, able to share a unit's connection
        pool = self.datastore.pool
        bounds = Bounds(
            connect=int(self.env.get(LIBPQ_CONNECT_TIMEOUT) or 5),
            statement=int(self.env.get(STATEMENT_TIMEOUT) or 0),
        )
        assert isinstance(pool.kwargs, dict)  # built from keywords by eventsourcing
        pool.kwargs.update(bounds.libpq())
        if bounds.statement:
            pool.kwargs["options"] = f"-c statement_timeout={bounds.statement * 1000}"
        # Not opened yet (eventsourcing opens it on first use): its reconnections made prompt,
        # on this pool alone (psycopg_pool's tasks call the pool's own _add_connection).
        add_connection = pool._add_connection

        def prompt(attempt: AttemptWithBackoff | None = None, growing: bool = False) -> None:
            add_connection(attempt or _PromptAttempt(timeout=pool.reconnect_timeout), growing)

        pool._add_connection = prompt  # type: ignore[method-assign]
