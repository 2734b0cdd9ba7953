"""Helpers for the integrity tests: the event store's tables reached with the database's
own client (sqlite3 on the file, psycopg on the test's schema), as anyone with the database
could, and the service started again on the same store (a new process holds nothing of
what the old one verified)."""

import json
import sqlite3
import warnings
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from uuid import UUID

from starlette.exceptions import StarletteDeprecationWarning

from domain.ledger import LEDGER, event_hash
from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests import backends
from tests.conftest import Api, FakeClock, Tenant

with warnings.catch_warnings():
    # Starlette asks for `httpx2`; the client is httpx underneath either way (as in conftest).
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


@dataclass(frozen=True)
class Stored:
    version: int
    topic: str
    state: dict[str, Any]


class Store:
    """The event store's tables (events or snapshots), reached with the database's own client."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sqlite = not settings.uses_postgres

    def _run(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if self.sqlite:
            with sqlite3.connect(self.settings.data_dir / "readmodels.sqlite3", isolation_level=None) as conn:
                conn.execute("BEGIN IMMEDIATE")
                found = conn.execute(sql.replace("%s", "?"), params).fetchall()
                conn.execute("COMMIT")
                return found
        import psycopg

        with psycopg.connect(backends.PG_DSN, autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{self.settings.database_schema}"')
            cursor = conn.execute(sql.encode(), params)
            return cursor.fetchall() if cursor.description else []

    def _table(self, purpose: str) -> str:
        return f"stored_{purpose}" if self.sqlite else f"cleverinvo_{purpose}"

    def _id(self, stream: str) -> Any:
        return UUID(stream).hex if self.sqlite else UUID(stream)

    def rows(self, stream: str, purpose: str = "events") -> list[Stored]:
        found = self._run(
            f"SELECT originator_version, topic, state FROM {self._table(purpose)} "
            "WHERE originator_id = %s ORDER BY originator_version",
            self._id(stream),
        )
        return [Stored(version, topic, json.loads(bytes(state))) for version, topic, state in found]

    def write(self, stream: str, row: Stored, state: dict[str, Any], purpose: str = "events") -> None:
        text = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        self._run(
            f"UPDATE {self._table(purpose)} SET state = %s WHERE originator_id = %s AND originator_version = %s",
            text,
            self._id(stream),
            row.version,
        )

    def delete(self, stream: str, version: int) -> None:
        self._run(
            f"DELETE FROM {self._table('events')} WHERE originator_id = %s AND originator_version = %s",
            self._id(stream),
            version,
        )


def resealed(stream: str, row: Stored, state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with its own seal's hash made right for its new content (an attacker's
    second step): only the chain to the next version can still tell."""
    seal = {k: v for k, v in state[LEDGER].items() if k != "hash"}
    digest = event_hash(stream, row.version, row.topic, {**state, LEDGER: seal})
    return {**state, LEDGER: {**seal, "hash": digest}}


class Restarts:
    """Services and an app started again on the same store, closed together at the end."""

    def __init__(self, settings: Settings, clock: FakeClock, tenant: Tenant) -> None:
        self.settings, self.clock, self.tenant = settings, clock, tenant
        self._started: list[tuple[Services, TestClient]] = []

    def start(self) -> tuple[Services, Api]:
        services = Services(self.settings, clock=self.clock)
        http = TestClient(create_app(self.settings, services), raise_server_exceptions=False)
        http.__enter__()
        self._started.append((services, http))
        return services, Api(http, self.tenant)

    def __enter__(self) -> "Restarts":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for services, http in self._started:
            http.__exit__(None, None, None)
            services.close()
