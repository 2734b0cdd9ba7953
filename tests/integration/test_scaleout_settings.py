"""The settings that scale CleverInvo out: a PostgreSQL URL (and its schema) for every
store, a Redis URL and prefix for the rate-limit counters."""

import pytest
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import resolve_topic

from gateway.settings import Settings, SettingsError

PG = "postgresql://cleverinvo:secret@db.internal:5433/books"


def test_by_default_everything_is_sqlite_and_counters_are_in_memory(tmp_path) -> None:
    settings = Settings.from_env({"CLEVERINVO_DATA_DIR": str(tmp_path)})
    assert not settings.uses_postgres
    assert settings.rate_limit_storage == "async+memory://" and settings.redis_url is None
    assert settings.event_store_env()["SQLITE_DBNAME"] == str(tmp_path / "readmodels.sqlite3")


def test_a_postgresql_url_puts_the_event_store_there_too() -> None:
    env = Settings.from_env({"CLEVERINVO_DATABASE_URL": PG}).event_store_env()
    # eventsourcing's PostgreSQL persistence, its waits bounded (database/pg_bounds.py)
    assert issubclass(resolve_topic(env["PERSISTENCE_MODULE"]), PostgresFactory)
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == ("db.internal", "5433", "books")
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("cleverinvo", "secret")
    assert env["POSTGRES_SCHEMA"] == "public"


@pytest.mark.parametrize(
    ("options", "schema"),
    [
        ("-csearch_path%3Dtenant_a", "tenant_a"),
        ("-csearch_path%3Dtenant_a,public", "tenant_a"),
        ("-c%20search_path%3Dbooks", "books"),
        ("-cstatement_timeout%3D5000", "public"),
    ],
)
def test_the_schema_is_the_first_of_the_urls_search_path(options: str, schema: str) -> None:
    settings = Settings.from_env({"CLEVERINVO_DATABASE_URL": f"{PG}?options={options}"})
    assert settings.database_schema == schema
    assert settings.event_store_env()["POSTGRES_SCHEMA"] == schema


@pytest.mark.parametrize("path", ["Tenant", "a;drop", "x%22y", "a,,b"])
def test_a_search_path_that_is_not_plain_schema_names_is_refused(path: str) -> None:
    with pytest.raises(SettingsError, match="search_path"):
        Settings.from_env({"CLEVERINVO_DATABASE_URL": f"{PG}?options=-csearch_path%3D{path}"})


def test_a_redis_url_puts_the_counters_there_under_the_prefix() -> None:
    settings = Settings.from_env({"CLEVERINVO_REDIS_URL": "redis://cache:6379/2", "CLEVERINVO_REDIS_PREFIX": "inv-1"})
    assert settings.rate_limit_storage == "async+redis://cache:6379/2"
    assert settings.redis_prefix == "inv-1"
    assert Settings.from_env({"CLEVERINVO_REDIS_URL": "rediss://cache"}).rate_limit_storage == "async+rediss://cache"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CLEVERINVO_REDIS_URL", "memcached://cache:11211"),
        ("CLEVERINVO_REDIS_URL", "redis://"),
        ("CLEVERINVO_REDIS_PREFIX", "has space"),
        ("CLEVERINVO_REDIS_PREFIX", "x" * 65),
    ],
)
def test_a_bad_redis_setting_is_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
