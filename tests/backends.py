"""The two backends every fixture-built test runs on: the SQLite default, and PostgreSQL +
Redis (127.0.0.1:5432, trust auth, database ``test``; 127.0.0.1:6379).

Each PostgreSQL test gets a schema of its own (``search_path`` in the URL, which the event
store follows too), dropped afterwards; each gets its own Redis key prefix, whose keys are
deleted afterwards. Without the servers those cases skip, saying why; with
CLEVERINVO_REQUIRE_BACKENDS=1 (set by .ci/run) they fail instead.
"""

import contextlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import pytest

PG_DSN = "host=127.0.0.1 port=5432 dbname=test"
PG_URL = "postgresql://127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
SCHEMA_PREFIX = "cinv_t_"


def required() -> bool:
    return os.environ.get("CLEVERINVO_REQUIRE_BACKENDS", "").strip() not in ("", "0")


@cache
def unavailable() -> str | None:
    """Why PostgreSQL + Redis cannot be used here (None: both answer)."""
    try:
        import psycopg
        import redis
    except ImportError as exc:
        return f"the PostgreSQL/Redis clients are not installed ({exc.name}): pip install -e '.[test]'"
    try:
        with psycopg.connect(PG_DSN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL is not reachable at 127.0.0.1:5432 (database test): {str(exc).strip()}"
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        return f"Redis is not reachable at 127.0.0.1:6379: {exc}"
    _drop_leftovers()
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        # Once per database, where every test's schema sees it (their search_path ends in
        # public): made inside a test's schema, it would go with that schema. Test processes
        # starting at once (pytest-xdist's workers) would race on IF NOT EXISTS: one at a time.
        conn.execute("SELECT pg_advisory_lock(hashtext('cleverinvo tests: pg_trgm'))")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        conn.execute("SELECT pg_advisory_unlock(hashtext('cleverinvo tests: pg_trgm'))")
    return None


def _drop_leftovers() -> None:
    """Schemas an interrupted run left behind: those whose test process is gone (another run
    on this machine may be using its own right now)."""
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        names = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (SCHEMA_PREFIX.replace("_", r"\_") + "%",)
        ).fetchall()
        for (name,) in names:
            owner = name.removeprefix(SCHEMA_PREFIX).split("_")[0]
            if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
                with contextlib.suppress(psycopg.Error):  # another test process starting now dropped it first
                    conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def need_postgres() -> None:
    """Skips (or, in CI, fails) a test when PostgreSQL + Redis are missing."""
    reason = unavailable()
    if reason is None:
        return
    if required():
        pytest.fail(f"CLEVERINVO_REQUIRE_BACKENDS is set but {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL + Redis backend: {reason}")


@contextmanager
def postgres_env() -> Iterator[dict[str, str]]:
    """A fresh schema and Redis prefix, as the environment a process reads."""
    import psycopg
    import redis

    need_postgres()
    name = f"{SCHEMA_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:12]}"  # the pid: see _drop_leftovers
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    prefix = f"cinv-test-{name}"
    try:
        yield {
            # public stays on the path: extensions (pg_trgm) live there, once per database
            "CLEVERINVO_DATABASE_URL": f"{PG_URL}?options=-csearch_path%3D{name},public",
            "CLEVERINVO_REDIS_URL": REDIS_URL,
            "CLEVERINVO_REDIS_PREFIX": prefix,
            # Generous: the suite shares a loaded machine's Redis, and a reply a test waits 0.5 s
            # for is not a fault there (tests/test_ready_redis.py sets the short default itself).
            "CLEVERINVO_REDIS_TIMEOUT_MS": "10000",
        }
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '20s'")
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
