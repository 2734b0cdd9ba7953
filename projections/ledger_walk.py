"""A walk through the raw stored events in commit order, with each event's hash and its
account's running digest recomputed from the content alone (what verify and export read).

Nothing here trusts what the follower recorded or what a seal says about itself: the hash
is taken over the stored content (``domain.ledger.event_hash``), the account comes from the
seal or, for an event stored before sealing began, from its aggregate's first event, and
the digest runs over the account's events as they are stored now.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification

from domain.ledger import GENESIS, LEDGER, account_of_first, event_hash, next_digest, parse_state

BATCH = 1000


@dataclass(frozen=True)
class Walked:
    """One stored event. ``problem`` says why it cannot be read (then ``state``, ``hash``
    and ``digest`` are None); ``digest`` is None too once the account's digest is broken."""

    position: int
    aggregate_id: str
    version: int
    topic: str
    state: dict[str, Any] | None
    seal: dict[str, Any] | None  # the _ledger member; None before sealing began
    hash: str | None
    account: str | None
    digest: str | None
    problem: str | None = None


def stored_notifications(recorder: ApplicationRecorder, batch: int = BATCH) -> Iterator[Notification]:
    """Every stored event in commit order."""
    start = 0
    while notes := recorder.select_notifications(start=start, limit=batch, inclusive_of_start=False):
        yield from notes
        start = notes[-1].id


def _parse(note: Notification) -> tuple[dict[str, Any] | None, str | None]:
    try:
        state: Any = parse_state(note.state)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return None, f"its stored state is not readable JSON ({exc})"
    if not isinstance(state, dict):
        return None, "its stored state is not a JSON object"
    return state, None


def _seal(state: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    seal = state.get(LEDGER)
    if seal is None:
        return None, None
    if not isinstance(seal, dict) or not all(isinstance(seal.get(key), str) for key in ("account", "prev", "hash")):
        return None, f"its {LEDGER} seal is malformed"
    return seal, None


class _Walk:
    def __init__(self, mapper: Mapper[UUID]) -> None:
        self.mapper = mapper
        self.accounts: dict[str, str] = {}  # aggregate -> account, from its first event
        self.digests: dict[str, str | None] = {}  # account -> running digest; None once broken

    def step(self, note: Notification) -> Walked:
        aggregate_id, version = str(note.originator_id), note.originator_version
        state, problem = _parse(note)
        seal = None
        if state is not None:
            seal, problem = _seal(state)
        account = self.accounts.get(aggregate_id)
        if problem is None:
            account, problem = self._account(note, aggregate_id, seal)
        if account is not None:
            self.accounts.setdefault(aggregate_id, account)
        if problem is not None or state is None or account is None:
            if account is not None:
                self.digests[account] = None  # nothing after this can be vouched for
            return Walked(note.id, aggregate_id, version, note.topic, None, None, None, account, None, problem)
        hashed = event_hash(aggregate_id, version, note.topic, state)
        before = self.digests.get(account, GENESIS)
        self.digests[account] = digest = None if before is None else next_digest(before, hashed)
        return Walked(note.id, aggregate_id, version, note.topic, state, seal, hashed, account, digest)

    def _account(
        self, note: Notification, aggregate_id: str, seal: dict[str, Any] | None
    ) -> tuple[str | None, str | None]:
        """The event's account, or why it cannot be known."""
        if seal is not None:
            return str(seal["account"]), None
        known = self.accounts.get(aggregate_id)
        if known is not None or note.originator_version != 1:
            return known or aggregate_id, None  # no first event: named by itself, as the sealing does
        try:  # recorded before sealing began: its first event names the account
            return account_of_first(self.mapper.to_domain_event(note)), None
        except Exception as exc:  # any decoding failure is a finding, not a crash
            return None, f"it cannot be decoded ({type(exc).__name__}: {exc})"


def walk(recorder: ApplicationRecorder, mapper: Mapper[UUID], batch: int = BATCH) -> Iterator[Walked]:
    """Every stored event in commit order, hashed and digested from its content."""
    state = _Walk(mapper)
    for note in stored_notifications(recorder, batch):
        yield state.step(note)


class Unexportable(Exception):
    """An event of the account cannot be read, so no honest export can be written."""


def export_lines(recorder: ApplicationRecorder, mapper: Mapper[UUID], account_id: str) -> Iterator[str]:
    """The account's events in commit order, one JSON object a line: position, aggregateId,
    version, topic, the stored state (with its _ledger seal) and the account's digest after it."""
    for event in walk(recorder, mapper):
        if event.account not in (account_id, None):
            continue
        if event.state is None or event.digest is None:
            where = f"the event at position {event.position} (aggregate {event.aggregate_id} version {event.version})"
            raise Unexportable(f"{where} cannot be exported: {event.problem or 'an earlier one is unreadable'}")
        line = {
            "position": event.position,
            "aggregateId": event.aggregate_id,
            "version": event.version,
            "topic": event.topic,
            "state": event.state,
            "digest": event.digest,
        }
        yield json.dumps(line, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
