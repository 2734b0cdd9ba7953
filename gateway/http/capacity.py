"""How many requests touch the stores at once: never more than there are connections.

Every blocking use case runs on AnyIO's default thread limiter (``run_in_threadpool``),
which allows 40 threads; eventsourcing's SQLite pool holds 15 connections and gave up
after 5 seconds, and its writers queue one behind the other on a writer lock inside that
same wait. Under sustained writes, 40 threads queued on 15 connections behind one writer
lock turned a garbage-collection pause into ``ConnectionUnavailableError`` and a 500
(issue 16, defect 6). So the pools and the threads are sized together:

* the event store's SQLite pool waits as long as SQLite itself waits for its lock
  (``database.event_transactions.SharedSQLiteFactory``), so a read queued behind others is
  late, not lost; a command runs on the read model's writer engine, in one transaction;
* the request threads are as many as the smallest pool has connections
  (``limit_threads``), so a thread never waits for a connection another thread of this
  process will not give back soon;
* what still finds no connection in time is truly saturated, and is answered 503 with
  ``Retry-After`` (``gateway.http.errors``).
"""

from typing import Any

from anyio import to_thread
from eventsourcing.persistence import ConnectionPool
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool


def _event_store_connections(app: Any) -> int | None:
    pool = getattr(getattr(app.recorder, "datastore", None), "pool", None)
    if isinstance(pool, ConnectionPool):
        return int(pool.pool_size + pool.max_overflow)
    max_size = getattr(pool, "max_size", None)  # psycopg_pool's ConnectionPool (PostgreSQL)
    return int(max_size) if isinstance(max_size, int) else None


def _engine_connections(engine: Engine) -> int | None:
    pool = engine.pool
    if isinstance(pool, QueuePool):
        return int(pool.size() + max(pool._max_overflow, 0))  # noqa: SLF001 - no public reader
    return None  # NullPool, StaticPool...: no bound of their own


def connections(app: Any, engines: list[Engine]) -> int:
    """The fewest connections any store this process uses can give at once."""
    bounds = [_event_store_connections(app), *(_engine_connections(engine) for engine in engines)]
    known = [bound for bound in bounds if bound is not None]
    return min(known) if known else int(to_thread.current_default_thread_limiter().total_tokens)


def limit_threads(app: Any, engines: list[Engine]) -> int:
    """Sets the request threads of the running event loop to ``connections``; returns it.
    Called from the app's lifespan, inside the loop whose limiter it sets."""
    threads = connections(app, engines)
    to_thread.current_default_thread_limiter().total_tokens = threads
    return threads
