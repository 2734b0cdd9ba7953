"""Snapshots tied to the sealed events they fold.

A snapshot is a cache of an aggregate at a version: loading one replaces replaying the
events up to it, so a snapshot changed in the store would be served as truth though every
event verifies. Each snapshot is stored with a seal of its own, ``_ledger``::

    {"head": <hash of the event at the snapshot's version>, "hash": <hex>}

``hash`` is taken as an event's is (``domain.seals.event_hash``: over its id, version,
topic and state without ``_ledger.hash``). Loading a snapshot checks its hash, then reads
the event at its version, checks that event's content against its seal and that its hash
is ``head``; the events after it then chain from that event as any load checks them. So
a snapshot edited (or moved onto another aggregate or version) is refused like an edited
event. A snapshot stored before snapshots were sealed has no seal: it is not used, and the
aggregate is replayed from its first event (the next snapshot, 50 events on, is sealed).
"""

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import AggregateRecorder, EventStore, Mapper, Recording, StoredEvent

from domain.ledger import LedgerEventStore, unverified
from domain.seals import LEDGER, canonical, event_hash, parse_state
from domain.verifying import Head, Heads, Unverifiable

# A snapshot sealed by ``put`` is canonical JSON: ``_ledger`` first, ``hash`` then ``head``.
_SEALED = b'{"' + LEDGER.encode() + b'":{"hash":"'
_HEAD = b'","head":"'


def _fast(stored: StoredEvent) -> tuple[str, str] | None:
    """(head, hash) of a canonically sealed snapshot whose content matches its seal; None
    otherwise (the slow path parses it and says why)."""
    state = stored.state
    start = len(_SEALED)
    if not state.startswith(_SEALED) or state[start + 64 : start + 74] != _HEAD:
        return None
    head_at = start + 74
    if state[head_at + 64 : head_at + 66] != b'"}':
        return None
    body = b"".join(
        (
            b'{"aggregateId":"',
            str(stored.originator_id).encode(),
            b'","state":{"',
            LEDGER.encode(),
            b'":{"head":"',
            state[head_at:],
            b',"topic":',
            json.dumps(stored.topic, ensure_ascii=False).encode(),
            b',"version":',
            str(stored.originator_version).encode(),
            b"}",
        )
    )
    sealed_hash = state[start : start + 64].decode("ascii", "replace")
    if hashlib.sha256(body).hexdigest() != sealed_hash:
        return None
    return state[head_at : head_at + 64].decode("ascii", "replace"), sealed_hash


class LedgerSnapshotStore(EventStore[UUID]):
    def __init__(self, mapper: Mapper[UUID], recorder: AggregateRecorder, events: LedgerEventStore) -> None:
        super().__init__(mapper=mapper, recorder=recorder)
        self.events = events
        # The event each snapshot folds, verified once: a stored version never changes.
        self.folded = Heads()

    def put(self, domain_events: Sequence[DomainEventProtocol[UUID]], **kwargs: Any) -> list[Recording[UUID]]:
        sealed = [self._sealed(self.mapper.to_stored_event(snapshot)) for snapshot in domain_events]
        self.recorder.insert_events(sealed, **kwargs)
        return []  # snapshots are not notifications: nothing follows them

    def _sealed(self, plain: StoredEvent) -> StoredEvent:
        stream, version = plain.originator_id, plain.originator_version
        try:
            head = self.events.head_of(stream, version)
        except Unverifiable as exc:
            raise unverified(stream, exc.reason) from None
        state = parse_state(plain.state)
        state[LEDGER] = {"head": head.hash}
        state[LEDGER]["hash"] = event_hash(str(stream), version, plain.topic, state)
        return StoredEvent(stream, version, plain.topic, canonical(state))

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[DomainEventProtocol[UUID]]:
        stored = self.recorder.select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        usable = [snapshot for snapshot in stored if self._verified(snapshot)]
        return map(self.mapper.to_domain_event, usable)

    def _verified(self, snapshot: StoredEvent) -> bool:
        """True for a sealed snapshot that verifies; False for an unsealed one (not used);
        refuses one whose seal does not verify. The events after it are then checked as a
        chain from the event it folds."""
        stream, version = snapshot.originator_id, snapshot.originator_version
        try:
            sealed = _fast(snapshot) or self._slow(snapshot)
            if sealed is None:
                return False
            folded = self.folded.get(stream, version) or self.events.head_of(stream, version)
            if folded.hash != sealed[0]:
                raise Unverifiable(f"the snapshot at version {version} is not of the stored version {version}")
        except Unverifiable as exc:
            raise unverified(stream, exc.reason) from None
        self.folded.remember(stream, folded)
        self.events.heads.remember(stream, Head(version, folded.hash, folded.sealed))
        return True

    @staticmethod
    def _slow(snapshot: StoredEvent) -> tuple[str, str] | None:
        """(head, hash) of a sealed snapshot, parsed; None for an unsealed one."""
        version = snapshot.originator_version
        try:
            state = parse_state(snapshot.state)
        except ValueError:
            raise Unverifiable(f"the snapshot at version {version} is not one the service stored") from None
        seal = state.get(LEDGER)
        if seal is None:
            return None
        if not isinstance(seal, dict) or not all(isinstance(seal.get(key), str) for key in ("head", "hash")):
            raise Unverifiable(f"the snapshot at version {version} has a malformed seal")
        if event_hash(str(snapshot.originator_id), version, snapshot.topic, state) != seal["hash"]:
            raise Unverifiable(f"the snapshot at version {version} does not match its seal")
        return str(seal["head"]), str(seal["hash"])
