"""The two backends: the SQLite default, and PostgreSQL + Redis (127.0.0.1:5432, trust auth,
database ``test``; 127.0.0.1:6379).

A fixture-built test (``settings``, ``services``, ``api``, ``cli``...) runs on SQLite. It runs
on PostgreSQL + Redis as well only where its outcome can differ by backend: its file or the
test itself is named in ``BOTH_BACKENDS`` below (with why), or it is marked
``@pytest.mark.both_backends("why")`` (tests/conftest.py). Everything above the stores (HTTP
validation, rendering, the doors' words) is the same code on either and runs once.

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


# "file.py" (every test of the file) or "file.py::test_name" -> why its outcome can differ by
# backend. Tests that start PostgreSQL processes of their own (test_scaleout.py,
# test_two_hosts_pdf.py, the outage tests) use postgres_env() directly and are not listed.
BOTH_BACKENDS: dict[str, str] = {
    # the read model, the ledger index and their rebuilds: SQL written per dialect
    "test_projection.py": "the projector writes the read model in each dialect's SQL",
    "test_rebuild_online.py": "the online rebuild's shadow tables and swap are per dialect",
    "test_migrations.py": "migrations run per dialect (types, indexes, pg_trgm)",
    "test_store_templates.py": "the migrated template is a pg_dump script on PostgreSQL, files on SQLite",
    "test_read_model_index.py": "index use is the database's own",
    "test_read_model_lag.py": "the projection's position is read from the store",
    "test_positions_64bit.py": "integer widths (BIGINT positions) differ by database",
    "test_cursors_plans.py": "query plans are the database's own",
    "test_cursors_rest.py": "keyset order, collation and a concurrent writer are the database's",
    "test_cursors_graphql.py::test_a_connection_walk_while_another_thread_creates_sees_every_earlier_row_once": (
        "a concurrent writer under the database's isolation"
    ),
    "test_events_feed.py": "notification ids and commit order come from the event store",
    "test_history.py": "past versions and as-of reads fold stored events and timestamps",
    "test_ledger_follower.py": "the ledger index is a follower of the event store, in threads",
    "test_ledger_export.py": "an export reads the event store's rows",
    "test_integrity_tampered.py": "rebuilds verify what each store returns",
    "test_integrity_snapshots.py": "snapshots are stored and sealed in the event store",
    "test_seal_cache.py": "two processes racing on one stream's chain",
    "test_unchanged_writes.py": "values read back from the store (decimals, text) decide what is unchanged",
    "test_conditional_requests.py": "If-Match races are decided by the event store's version check",
    "test_clock_steps.py": "the last recorded time is read back from the store after a restart",
    "test_followers_health.py": "follower positions and lag come from the store",
    "test_pdf_workers.py": "the render queue's leases (storage/work_queue) and PDFs kept in the database",
    "test_saturation.py": "connection pools are each driver's own",
    "test_ready_checks.py": "Redis is configured (and checked) with PostgreSQL only",
    "test_ready_faults.py": "Redis and follower checks as configured with PostgreSQL",
    "test_dashboard_cli.py": "owners and keys are state in storage/, not built from events",
    "test_cli_lifecycle.py": "the overdue sweep compares due dates in SQL",
    # idempotency records (storage/idempotency): unique keys and row locks per dialect
    "test_idempotency.py": "idempotency records: unique keys and locks per dialect",
    "test_idempotency_once.py": "idempotency records: one run under concurrency",
    "test_idempotency_recovery.py": "idempotency records recovered from the store",
    "test_idempotency_crash.py": "idempotency records after a killed process",
    "test_graphql_idempotency.py": "idempotency records behind the GraphQL door",
    # single tests of otherwise backend-independent files: concurrency, counters, search, Redis
    "test_api_clients.py::test_search_clients_is_case_insensitive_beyond_ascii": "search is per dialect (pg_trgm)",
    "test_api_clients.py::test_search_treats_like_wildcards_literally": "LIKE escaping is per dialect",
    "test_api_clients.py::test_search_with_paging_counts_only_matches": "search is per dialect (pg_trgm)",
    "test_api_clients.py::test_racing_posts_for_the_last_free_plan_slot_let_exactly_one_in": "races",
    "test_api_invoices.py::test_search_invoices_by_number_client_name_or_email_case_insensitively": "search",
    "test_api_invoices.py::test_filters_combine": "filters are the database's queries",
    "test_api_invoices.py::test_totals_are_exact_decimals_half_up": "decimals round-trip through each store",
    "test_api_invoices.py::test_racing_posts_without_numbers_get_distinct_consecutive_numbers": "concurrency",
    "test_openapi.py::test_answers_are_written_as_before_decimals_at_their_scale": "decimals read back from each store",
    "test_lifecycle.py::test_the_first_view_is_recorded_once_even_when_opened_at_the_same_time": "concurrency",
    "test_lifecycle.py::test_racing_payments_never_pay_more_than_the_total": "concurrency",
    "test_lifecycle.py::test_a_draft_past_its_due_date_becomes_overdue_only_once_sent": "due dates compared in SQL",
    "test_share.py::test_the_first_view_records_viewed_exactly_once": "concurrency",
    "test_share.py::test_share_pages_have_their_own_per_address_rate_limit": "the counters are in Redis",
    "test_domain_rules.py::test_client_limit_stays_exact_across_many_slot_changes_and_a_restart": "stored counters",
    "test_domain_rules.py::test_invoice_limit_starts_again_next_month": "monthly counters in SQL",
    "test_domain_rules.py::test_racing_creates_for_the_last_client_slot_let_exactly_one_in": "races",
    "test_domain_rules.py::test_racing_reactivations_for_the_last_client_slot_let_exactly_one_in": "races",
    "test_domain_rules.py::test_racing_creates_for_the_last_invoice_slot_of_the_month_let_exactly_one_in": "races",
    "test_domain_rules.py::test_racing_creates_with_the_same_number_let_exactly_one_in": "races",
    "test_domain_rules.py::test_racing_auto_numbered_creates_get_distinct_consecutive_numbers": "concurrency",
    "test_domain_rules.py::test_racing_renumbers_to_the_same_number_let_exactly_one_in": "races",
    "test_domain_rules.py::test_two_applications_on_one_data_dir_share_the_limits": "two processes on one store",
    "test_domain_rules.py::test_racing_processes_numbering_and_counting_one_accounts_invoices_stay_exact": "processes",
    "test_domain_rules.py::test_racing_first_owners_let_exactly_one_in": "races",
    "test_graphql.py::test_a_page_with_clients_and_payments_costs_a_constant_number_of_queries": "queries per dialect",
    "test_graphql.py::test_graphql_and_rest_spend_one_budget": "the counters are in Redis",
    "test_email.py::test_a_delivery_cut_off_by_a_kill_is_sent_again_with_the_same_message_id": "the queue's leases",
    "test_email.py::test_a_worker_killed_after_recording_the_outcome_leaves_one_delivery_in_the_ledger": "leases",
    "test_email.py::test_an_outcome_recorded_already_is_not_recorded_again_nor_sent": "the mail queue's records",
    "test_email.py::test_a_failure_recorded_already_is_kept_to_its_schedule_not_recorded_again": "the queue's records",
    "test_email.py::test_two_worker_processes_deliver_each_send_once": "two processes leasing one queue",
    "test_cli.py::test_keys_revoke_makes_the_key_fail_auth_even_on_a_running_server": "another process's store",
    "test_cli.py::test_projections_rebuild_reproduces_the_same_read_model": "the rebuild, per dialect",
    "test_dashboard.py::test_sign_in_attempts_are_limited_per_address": "the counters are in Redis",
    "test_auth_and_limits.py::test_key_created_by_another_process_works_at_once": "another process's store",
    "test_auth_and_limits.py::test_key_revoked_by_another_process_is_refused_at_once": "another process's store",
    "test_auth_and_limits.py::test_default_budget_is_120_per_minute_and_every_response_counts_down": "Redis counters",
    "test_auth_and_limits.py::test_121st_request_in_a_minute_is_429_with_retry_after": "Redis counters",
    "test_auth_and_limits.py::test_budget_headers_are_on_every_kind_of_response": "Redis counters",
    "test_auth_and_limits.py::test_over_budget_request_is_429_and_writes_nothing": "Redis counters",
    "test_auth_and_limits.py::test_budget_is_per_key": "Redis counters",
    "test_auth_and_limits.py::test_keys_of_one_account_have_a_budget_each": "Redis counters",
    "test_auth_and_limits.py::test_requests_without_a_valid_key_share_a_budget_per_address": "Redis counters",
    "test_probe_defects.py::test_a_flood_of_random_keys_is_cut_by_address_before_any_lookup": "Redis counters",
    "test_probe_defects.py::test_anonymous_requests_are_cut_by_address_too": "Redis counters",
    "test_probe_defects.py::test_a_key_keeps_its_own_budget_after_the_address_paid": "Redis counters",
    "test_probe_defects.py::test_graphql_websockets_spend_the_address_budget_too": "Redis counters",
    "test_probe_defects.py::test_the_address_budget_defaults_to_600_a_minute_or_the_key_rate_when_higher": "Redis",
    "test_probe_defects.py::test_300_anonymous_requests_with_forged_forwarded_addresses_are_limited": "Redis counters",
}


def on_both(file_name: str, test_name: str) -> bool:
    """Whether BOTH_BACKENDS names the test or its file."""
    return file_name in BOTH_BACKENDS or f"{file_name}::{test_name}" in BOTH_BACKENDS


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
            # for is not a fault there (tests/e2e/test_ready_redis.py sets the short default itself).
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
