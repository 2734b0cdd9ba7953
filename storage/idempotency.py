"""Idempotency keys: the first answer to a request, kept so a retry gets it again.

One row per (account, key) in ``idempotency_keys``, in the read-model database, so every
process and host shares it and it outlives a restart:

- Inserting the row is the lock. The primary key (account, key) makes racing duplicates
  see each other: the one whose insert lands runs the request (the row is ``in_flight``);
  the others find its row.
- When the request has an answer worth keeping, the row becomes ``done`` with the status,
  the headers that matter and the body; an answer not worth keeping (a server error)
  deletes the row, so a retry runs again.
- A row lives ``ttl`` (24 hours) from the key's first request; past ``expires_at`` it
  counts as absent, and expired rows are purged now and then as claims go by.

The row is in another database than the events (on SQLite another file), so no
transaction covers both: a process can die after its command committed and before its
answer was kept. So each claim has a random reference (``owner``), which the request's
events carry in their seal (``domain.actors.for_request``): it commits with them. An
in-flight row also names its holder process (``storage.holders``), the store's
position when it was claimed, and when its holder last beat. A retry that finds it
``abandoned`` (its holder does not run, by a look at the holder's process on the same
host or a heartbeat older than ``stale_after`` from elsewhere, or it was claimed longer
than ``in_flight_ttl`` ago: a wedged request) recovers it (``gateway/http/idempotency_keys.py``):
events after that position carrying the reference mean the request took effect, and its
answer is rebuilt from them and kept (``settle``); none mean it did not, and the retry
takes the key over and runs it once (``take_over``). Both are compare-and-sets on the
reference, so of racing retries one decides.

Not a read-model table: a read-model rebuild leaves it alone.
"""

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Engine,
    and_,
    delete,
    select,
    update,
)

from database.schema import ensure_migrated
from database.statements import upsert
from storage import holders
from storage.tables import MAX_KEY_LENGTH as MAX_KEY_LENGTH  # the longest key, which the doors check
from storage.tables import idempotency_keys

IN_FLIGHT: Literal["in_flight"] = "in_flight"
DONE: Literal["done"] = "done"


TTL = timedelta(hours=24)
IN_FLIGHT_TTL = timedelta(minutes=5)  # no request runs so long: its holder is wedged
BEAT_EVERY = timedelta(seconds=1)  # how often a holder beats while its request runs
STALE_AFTER = timedelta(seconds=4)  # a holder elsewhere that has not beaten for this long is gone
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
    """The caller holds the key: run the request acting for ``owner`` (its events carry
    it), ``beat`` every ``BEAT_EVERY`` meanwhile, then ``complete`` or ``release``."""

    account_id: str
    key: str
    owner: str
    created_at: datetime
    position: int | None = None  # the store's last position before the request ran


@dataclass(frozen=True)
class Abandoned:
    """The key's request was claimed by a process that is gone (or wedged): whether it
    took effect is for the store's events to say, those after ``position`` that carry
    ``owner``. Then ``settle`` it with the answer rebuilt from them, or ``take_over``."""

    account_id: str
    key: str
    owner: str
    request: str
    position: int | None  # None: claimed before recovery existed; its events carry nothing


@dataclass(frozen=True)
class InFlight:
    """Another request with this key is running."""


@dataclass(frozen=True)
class Mismatch:
    """The key was used for another request (method, path or body)."""


@dataclass(frozen=True)
class Replay:
    response: StoredResponse


Claim = Claimed | InFlight | Mismatch | Replay | Abandoned


def _held(claim: Claimed | Abandoned) -> ColumnElement[bool]:
    return and_(
        idempotency_keys.c.account_id == claim.account_id,
        idempotency_keys.c.key == claim.key,
        idempotency_keys.c.owner == claim.owner,
    )


def _response(row: Any) -> StoredResponse:
    headers = [(str(name), str(value)) for name, value in json.loads(row.headers or "[]")]
    return StoredResponse(int(row.status), headers, bytes(row.body or b""))


class IdempotencyStore:
    def __init__(
        self,
        writer: Engine,
        *,
        ttl: timedelta = TTL,
        in_flight_ttl: timedelta = IN_FLIGHT_TTL,
        stale_after: timedelta = STALE_AFTER,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = writer
        self.ttl = ttl
        self.in_flight_ttl = in_flight_ttl
        self.stale_after = stale_after
        self._clock = clock
        self._purged_at: datetime | None = None
        ensure_migrated(writer)

    def now(self) -> datetime:
        """The clock given, or the module's ``now`` (read at each call, so a test may replace it)."""
        return self._clock() if self._clock is not None else now()

    def claim(self, account_id: str, key: str, request: str, body_hash: str, position: int | None = None) -> Claim:
        """Takes ``key`` for this request, or says why not (or what was answered).
        ``position``: the event store's last position now, before the request runs."""
        at = self.now()
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
                        expires_at=at + self.ttl,
                        holder=holders.this_process(),
                        beat_at=at,
                        position=position,
                    )
                    .on_conflict_do_nothing(index_elements=["account_id", "key"])
                    .returning(idempotency_keys.c.owner)  # an INSERT's rowcount is -1 under psycopg 3
                )
                if inserted.first() is not None:
                    return Claimed(account_id, key, owner, at, position)
                row = conn.execute(select(idempotency_keys).where(this)).first()
                if row is None:  # released between the insert and the read: try again
                    continue
                if row.expires_at <= at:  # as good as absent: drop it and try again
                    conn.execute(delete(idempotency_keys).where(this, idempotency_keys.c.owner == row.owner))
                    continue
                if row.request != request or row.body_hash != body_hash:
                    return Mismatch()
                if row.state == DONE:
                    return Replay(_response(row))
                if self._abandoned(row, at):
                    return Abandoned(account_id, key, row.owner, row.request, row.position)
                return InFlight()
        return InFlight()  # the key kept changing hands under us: let the client retry

    def _abandoned(self, row: Any, at: datetime) -> bool:
        """Whether an in-flight row's request will never finish: its claim is older than
        any request runs, or its holder is gone (looked up where this process can, else
        judged by its heartbeat)."""
        if at - row.created_at >= self.in_flight_ttl:
            return True
        if row.holder is None:  # claimed before holders were named: only its age tells
            return False
        running = holders.runs(row.holder)
        if running is None:
            return bool(at - (row.beat_at or row.created_at) >= self.stale_after)
        return not running

    def beat(self, claim: Claimed) -> bool:
        """Says the claim's holder still runs; False if the claim was lost meanwhile."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(idempotency_keys)
                .where(_held(claim), idempotency_keys.c.state == IN_FLIGHT)
                .values(beat_at=self.now())
            )
            return bool(done.rowcount == 1)

    def settle(self, abandoned: Abandoned, response: StoredResponse) -> bool:
        """Keeps ``response`` as the answer of an abandoned request that took effect;
        False if another retry settled it or took it over first."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(idempotency_keys)
                .where(_held(abandoned), idempotency_keys.c.state == IN_FLIGHT)
                .values(state=DONE, **self._kept(response))
            )
            return bool(done.rowcount == 1)

    def take_over(self, abandoned: Abandoned, position: int | None) -> Claimed | None:
        """Claims an abandoned request that took no effect, to run it; None if another
        retry settled it or took it over first. The key keeps its first request's expiry."""
        at = self.now()
        owner = secrets.token_hex(16)
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(idempotency_keys)
                .where(_held(abandoned), idempotency_keys.c.state == IN_FLIGHT)
                .values(owner=owner, created_at=at, holder=holders.this_process(), beat_at=at, position=position)
            )
            if taken.rowcount != 1:
                return None
        return Claimed(abandoned.account_id, abandoned.key, owner, at, position)

    @staticmethod
    def _kept(response: StoredResponse) -> dict[str, Any]:
        return {
            "status": response.status,
            "headers": json.dumps([list(pair) for pair in response.headers]),
            "body": response.body,
            "holder": None,
            "beat_at": None,
        }

    def complete(self, claim: Claimed, response: StoredResponse) -> bool:
        """Keeps the answer until the key expires. False if the claim was lost (another
        request found it abandoned and took it over)."""
        with self.engine.begin() as conn:
            done = conn.execute(update(idempotency_keys).where(_held(claim)).values(state=DONE, **self._kept(response)))
            return bool(done.rowcount == 1)

    def release(self, claim: Claimed) -> None:
        """Gives the key up, keeping nothing: the next request with it runs again."""
        with self.engine.begin() as conn:
            conn.execute(delete(idempotency_keys).where(_held(claim)))

    def purge(self, at: datetime | None = None) -> int:
        """Deletes the expired rows; returns how many."""
        at = at or self.now()
        self._purged_at = at
        with self.engine.begin() as conn:
            gone = conn.execute(delete(idempotency_keys).where(idempotency_keys.c.expires_at <= at))
            return int(gone.rowcount)
