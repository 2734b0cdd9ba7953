"""Helpers for the ledger tests: books written through the real API, and an attacker's
hand on the SQLite event store (the sqlite3 module on the file, nothing of ours)."""

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import EventStore, Mapper

from domain.application import CleverInvo
from domain.ledger import GENESIS, LEDGER, account_of_first, event_hash, next_digest, stored_hash
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Api, payload


@dataclass(frozen=True)
class Row:
    position: int
    aggregate_id: str
    version: int
    topic: str
    state: dict[str, Any]


@dataclass(frozen=True)
class Books:
    """One account's ids after `write_books`."""

    account_id: str
    client_id: str
    invoice_id: str


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return payload(response)


def write_books(api: Api) -> Books:
    """A client (created, updated), an invoice (created, updated, sent, paid in part) and
    a second client: several aggregates and versions in one account."""
    client = api.create_client(email="billing@acme.test")["id"]
    ok(api.patch(f"/api/v1/clients/{client}", {"phone": "+1-555-0100"}))
    invoice = api.create_invoice(client)["id"]
    ok(api.patch(f"/api/v1/invoices/{invoice}", {"notes": "Thank you"}))
    ok(api.post(f"/api/v1/invoices/{invoice}/send", {}))
    ok(api.post(f"/api/v1/invoices/{invoice}/payments", {"amount": 100}), 201)
    api.create_client(name="Globex")
    assert api.tenant is not None
    return Books(str(api.tenant.account_id), client, invoice)


def digest_body(api: Api) -> dict[str, Any]:
    """``GET /ledger/digest`` as an auditor keeps it: the body, numbers as plain JSON."""
    response = api.get("/api/v1/ledger/digest")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = json.loads(response.text)
    return body


class Unsealed(CleverInvo):
    """The application as it was before sealing existed: an older data directory's events."""

    def construct_mapper(self) -> Mapper[UUID]:
        return Application.construct_mapper(self)

    def construct_event_store(self) -> EventStore[UUID]:
        return Application.construct_event_store(self)


def write_unsealed(settings: Settings, notes: str | None = None) -> tuple[UUID, UUID]:
    """An account and a client stored before sealing began; returns their ids."""
    old = Unsealed(settings.event_store_env())
    try:
        account = old.open_account("Old Seller", "pro")
        return account, old.create_client(account, {"name": "Old Client", "notes": notes})
    finally:
        old.close()


# --- the raw store -----------------------------------------------------------------------


def events_file(data_dir: Path) -> Path:
    return data_dir / "readmodels.sqlite3"


def _connect(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(events_file(data_dir), timeout=30, isolation_level=None)


def rows(data_dir: Path) -> list[Row]:
    """Every stored event in commit order, as the file holds it."""
    with _connect(data_dir) as conn:
        found = conn.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        ).fetchall()
    return [Row(r[0], str(UUID(r[1])), r[2], r[3], json.loads(r[4])) for r in found]


def row_of(data_dir: Path, aggregate_id: str, version: int) -> Row:
    return next(r for r in rows(data_dir) if (r.aggregate_id, r.version) == (aggregate_id, version))


def last_version(data_dir: Path, aggregate_id: str) -> Row:
    return [r for r in rows(data_dir) if r.aggregate_id == aggregate_id][-1]


def execute(data_dir: Path, sql: str, *params: Any) -> None:
    with _connect(data_dir) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(sql, params)
        conn.execute("COMMIT")


def write_state(data_dir: Path, position: int, state: dict[str, Any]) -> None:
    text = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    execute(data_dir, "UPDATE stored_events SET state = ? WHERE rowid = ?", text.encode(), position)


def edit(data_dir: Path, row: Row, reseal: bool = False, **changes: Any) -> None:
    """Changes fields of a stored event by hand; with ``reseal`` the attacker also puts the
    right hash for the new content in its seal."""
    state = {**row.state, **changes}
    if reseal:
        seal = {k: v for k, v in state[LEDGER].items() if k != "hash"}
        state[LEDGER] = {**seal, "hash": event_hash(row.aggregate_id, row.version, row.topic, {**state, LEDGER: seal})}
    write_state(data_dir, row.position, state)


def delete(data_dir: Path, position: int) -> None:
    execute(data_dir, "DELETE FROM stored_events WHERE rowid = ?", position)


def swap_states(data_dir: Path, first: Row, second: Row) -> None:
    write_state(data_dir, first.position, second.state)
    write_state(data_dir, second.position, first.state)


def swap_positions(data_dir: Path, first: int, second: int) -> None:
    """Swaps the commit order of two events: each row takes the other's notification id."""
    with _connect(data_dir) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE stored_events SET rowid = -1 WHERE rowid = ?", (first,))
        conn.execute("UPDATE stored_events SET rowid = ? WHERE rowid = ?", (first, second))
        conn.execute("UPDATE stored_events SET rowid = ? WHERE rowid = -1", (second,))
        conn.execute("COMMIT")


# --- what the ledger should say ------------------------------------------------------------


def expected_entries(services: Services) -> list[tuple[int, str, str, int, str, str]]:
    """(position, account, aggregate, version, hash, digest) recomputed here from the store."""
    digests: dict[str, str] = {}
    accounts: dict[str, str] = {}
    found = []
    for note in services.app.recorder.select_notifications(start=1, limit=1_000_000):
        state = json.loads(note.state)
        aggregate = str(note.originator_id)
        seal = state.get(LEDGER)
        if seal:
            account = seal["account"]
        elif note.originator_version == 1:  # stored before sealing: the first event names it
            account = account_of_first(services.app.mapper.to_domain_event(note))
        else:
            account = accounts[aggregate]
        accounts.setdefault(aggregate, account)
        hashed = stored_hash(note)
        digests[account] = digest = next_digest(digests.get(account, GENESIS), hashed)
        found.append((note.id, account, aggregate, note.originator_version, hashed, digest))
    return found


def recorded_entries(services: Services) -> list[tuple[int, str, str, int, str, str]]:
    return [
        (e.position, e.account_id, e.aggregate_id, e.version, e.hash, e.digest)
        for e in services.ledger.entries(0, 1_000_000)
    ]
