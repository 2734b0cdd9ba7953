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

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import AggregateRecorder, EventStore, Mapper, Recording, StoredEvent

from domain.ledger import LedgerEventStore, unverified
from domain.seals import LEDGER, canonical, event_hash, parse_state
from domain.verifying import Unverifiable


class LedgerSnapshotStore(EventStore[UUID]):
    def __init__(self, mapper: Mapper[UUID], recorder: AggregateRecorder, events: LedgerEventStore) -> None:
        super().__init__(mapper=mapper, recorder=recorder)
        self.events = events

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
        refuses one whose seal does not verify."""
        stream, version = snapshot.originator_id, snapshot.originator_version
        try:
            state = parse_state(snapshot.state)
        except ValueError:
            raise unverified(stream, f"the snapshot at version {version} is not one the service stored") from None
        seal = state.get(LEDGER)
        if seal is None:
            return False
        try:
            if not isinstance(seal, dict) or not all(isinstance(seal.get(key), str) for key in ("head", "hash")):
                raise Unverifiable(f"the snapshot at version {version} has a malformed seal")
            if event_hash(str(stream), version, snapshot.topic, state) != seal["hash"]:
                raise Unverifiable(f"the snapshot at version {version} does not match its seal")
            if self.events.head_of(stream, version).hash != seal["head"]:
                raise Unverifiable(f"the snapshot at version {version} is not of the stored version {version}")
        except Unverifiable as exc:
            raise unverified(stream, exc.reason) from None
        return True
