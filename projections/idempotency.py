"""Idempotency keys: the first answer to a request, kept so a retry gets it again.

One row per (account, key) in ``idempotency_keys``, in the read-model database, so every
process and host shares it and it outlives a restart:

- Inserting the row is the lock. The primary key (account, key) makes racing duplicates
  see each other: the one whose insert lands runs the request (the row is ``in_flight``);
  the others find its row.
- When the request has an answer worth keeping, the row becomes ``done`` with the status,
  the headers that matter and the body; an answer not worth keeping (a server error)
  deletes the row, so a retry runs again.
- A row past ``expires_at`` counts as absent: a done row lives ``ttl`` (24 hours) from its
  first request; an in-flight row only ``in_flight_ttl``, so a key whose process died
  mid-request is free again soon. Expired rows are purged now and then as claims go by.

Not a read-model table: a read-model rebuild leaves it alone.
"""

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import (
    Column,
    ColumnElement,
    DateTime,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    select,
    update,
)

from projections.schema import ensure_migrated
from projections.work_queue import upsert

metadata = MetaData()

MAX_KEY_LENGTH = 255
IN_FLIGHT: Literal["in_flight"] = "in_flight"
DONE: Literal["done"] = "done"

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("account_id", String(36), primary_key=True),
    Column("key", String(MAX_KEY_LENGTH), primary_key=True),
    Column("request", Text, nullable=False),  # "POST /api/v1/invoices": the method and the path
    Column("body_hash", String(64), nullable=False),  # SHA-256 of the request body, hex
    Column("owner", String(32), nullable=False),  # the claim's token: only its holder completes it
    Column("state", String(16), nullable=False),  # in_flight | done
    Column("status", Integer),
    Column("headers", Text),  # JSON [[name, value], ...]
    Column("body", LargeBinary),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index("idempotency_keys_expiry", "expires_at"),
)

TTL = timedelta(hours=24)
IN_FLIGHT_TTL = timedelta(minutes=5)
PURGE_EVERY = timedelta(minutes=1)


def now() -> datetime:
    """The store's clock (naive UTC, as the other tables keep time); tests may replace it."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Claimed:
    """The caller holds the key: run the request, then ``complete`` or ``release``."""

    account_id: str
    key: str
    owner: str
    created_at: datetime


@dataclass(frozen=True)
class InFlight:
    """Another request with this key is running."""


@dataclass(frozen=True)
class Mismatch:
    """The key was used for another request (method, path or body)."""


@dataclass(frozen=True)
class Replay:
    response: StoredResponse


Claim = Claimed | InFlight | Mismatch | Replay


def _held(claim: Claimed) -> ColumnElement[bool]:
    return and_(
        idempotency_keys.c.account_id == claim.account_id,
        idempotency_keys.c.key == claim.key,
        idempotency_keys.c.owner == claim.owner,
    )


class IdempotencyStore:
    def __init__(
        self,
        writer: Engine,
        *,
        ttl: timedelta = TTL,
        in_flight_ttl: timedelta = IN_FLIGHT_TTL,
    ) -> None:
        self.engine = writer
        self.ttl = ttl
        self.in_flight_ttl = in_flight_ttl
        self._purged_at: datetime | None = None
        ensure_migrated(writer)

    def claim(self, account_id: str, key: str, request: str, body_hash: str) -> Claim:
        """Takes ``key`` for this request, or says why not (or what was answered)."""
        at = now()
        if self._purged_at is None or not timedelta(0) <= at - self._purged_at < PURGE_EVERY:
            self.purge(at)
        this = (idempotency_keys.c.account_id == account_id) & (idempotency_keys.c.key == key)
        owner = secrets.token_hex(16)
        for _attempt in range(10):
            with self.engine.begin() as conn:
                inserted = conn.execute(
                    upsert(conn, idempotency_keys)
                    .values(
                        account_id=account_id,
                        key=key,
                        request=request,
                        body_hash=body_hash,
                        owner=owner,
                        state=IN_FLIGHT,
                        created_at=at,
                        expires_at=at + self.in_flight_ttl,
                    )
                    .on_conflict_do_nothing(index_elements=["account_id", "key"])
                    .returning(idempotency_keys.c.owner)  # an INSERT's rowcount is -1 under psycopg 3
                )
                if inserted.first() is not None:
                    return Claimed(account_id, key, owner, at)
                row = conn.execute(select(idempotency_keys).where(this)).first()
                if row is None:  # released between the insert and the read: try again
                    continue
                if row.expires_at <= at:  # as good as absent: drop it and try again
                    conn.execute(delete(idempotency_keys).where(this, idempotency_keys.c.owner == row.owner))
                    continue
                if row.request != request or row.body_hash != body_hash:
                    return Mismatch()
                if row.state != DONE:
                    return InFlight()
                headers = [(str(name), str(value)) for name, value in json.loads(row.headers or "[]")]
                return Replay(StoredResponse(int(row.status), headers, bytes(row.body or b"")))
        return InFlight()  # the key kept changing hands under us: let the client retry

    def complete(self, claim: Claimed, response: StoredResponse) -> bool:
        """Keeps the answer for ``ttl`` from the first request. False if the claim was lost
        (it expired and another request took the key)."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(idempotency_keys)
                .where(_held(claim))
                .values(
                    state=DONE,
                    status=response.status,
                    headers=json.dumps([list(pair) for pair in response.headers]),
                    body=response.body,
                    expires_at=claim.created_at + self.ttl,
                )
            )
            return bool(done.rowcount == 1)

    def release(self, claim: Claimed) -> None:
        """Gives the key up, keeping nothing: the next request with it runs again."""
        with self.engine.begin() as conn:
            conn.execute(delete(idempotency_keys).where(_held(claim)))

    def purge(self, at: datetime | None = None) -> int:
        """Deletes the expired rows; returns how many."""
        at = at or now()
        self._purged_at = at
        with self.engine.begin() as conn:
            gone = conn.execute(delete(idempotency_keys).where(idempotency_keys.c.expires_at <= at))
            return int(gone.rowcount)
