"""The tamper-evident ledger: every stored event is sealed with a hash chained to the
previous event of its aggregate, and with who recorded it.

A sealed event's stored state is its JSON (as eventsourcing's transcoder writes it) with
one more member, ``_ledger``::

    {"account": <account id>, "actor": {"type", "id"?, "name"?}, "prev": <hex>, "hash": <hex>}

``hash`` is SHA-256 over the canonical JSON (RFC 8785: keys sorted, no whitespace, UTF-8;
our events hold no floating-point numbers, so this is Python's ``json.dumps(value,
sort_keys=True, separators=(",", ":"), ensure_ascii=False)``) of::

    {"aggregateId": <id>, "version": <int>, "topic": <event class topic>, "state": <state without _ledger.hash>}

``prev`` is the ``hash`` of the aggregate's previous version (64 zeros before version 1).
An account's digest runs over its events in commit order: it starts as 64 zeros and each
event makes it SHA-256(bytes of the digest so far + bytes of the event's hash).
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import AggregateRecorder, EventStore, Mapper, Notification, Recording, StoredEvent

from domain.actors import current_actor
from domain.integrity import Unverified, refuse
from domain.seals import GENESIS, LEDGER, canonical, event_hash, parse_state
from domain.verifying import START, Head, Heads, Unverifiable, check_chain, checked_event

__all__ = [  # the hashing lives in domain.seals; this is where the ledger is read from
    "GENESIS",
    "LEDGER",
    "LedgerEventStore",
    "LedgerMapper",
    "SealCache",
    "account_of_first",
    "canonical",
    "event_hash",
    "kind_of",
    "ledger_of",
    "next_digest",
    "parse_state",
    "recorded_on",
    "stored_hash",
    "unverified",
]


def stored_hash(stored: StoredEvent) -> str:
    """The hash of a stored event, computed from its content (sealed or not)."""
    state = parse_state(stored.state)
    return event_hash(str(stored.originator_id), stored.originator_version, stored.topic, state)


def next_digest(digest: str, hash_hex: str) -> str:
    """An account's running digest after one more event."""
    return hashlib.sha256(bytes.fromhex(digest) + bytes.fromhex(hash_hex)).hexdigest()


def ledger_of(stored: StoredEvent) -> dict[str, Any] | None:
    """The ``_ledger`` member of a stored event; None for one recorded before sealing."""
    found = parse_state(stored.state).get(LEDGER)
    return found if isinstance(found, dict) else None


class LedgerMapper(Mapper[UUID]):
    """Reads sealed events back as plain domain events: ``_ledger`` is not the event's."""

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        return self.read(stored_event)[0]

    def read(self, stored_event: StoredEvent) -> tuple[DomainEventProtocol[UUID], dict[str, Any] | None]:
        """The domain event and its ``_ledger`` (None before sealing), decoded once."""
        domain_event = super().to_domain_event(stored_event)
        ledger = vars(domain_event).pop(LEDGER, None)
        return domain_event, ledger


def account_of_first(domain_event: DomainEventProtocol[UUID]) -> str:
    """An aggregate's account, from its first event: the account itself has none."""
    return str(getattr(domain_event, "account_id", None) or domain_event.originator_id)


class SealCache:
    """The seal of each aggregate's latest version this process stored, so the next event
    of a busy aggregate (an account's quota, say) chains to it without reading the store.
    Only a stored event is remembered, and a stored version never changes, so an entry is
    never stale; another process's newer event is simply not found here."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._seals: OrderedDict[UUID | str, tuple[int, str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, aggregate_id: UUID | str, version: int) -> tuple[str, str] | None:
        with self._lock:
            found = self._seals.get(aggregate_id)
        if found is None or found[0] != version:
            return None
        return found[1], found[2]

    def clear(self) -> None:
        """Forgets every seal: after a rolled-back transaction, one may never have been stored."""
        with self._lock:
            self._seals.clear()

    def remember(self, seals: dict[UUID, tuple[int, str, str]]) -> None:
        """``seals``: aggregate -> (version, hash, account) of events now stored (in a
        shared transaction, stored but not yet committed: its rollback clears this)."""
        with self._lock:
            for aggregate_id, seal in seals.items():
                self._seals[aggregate_id] = seal
                self._seals.move_to_end(aggregate_id)
            while len(self._seals) > self._size:
                self._seals.popitem(last=False)


def kind_of(topic: str) -> str | None:
    """The aggregate an event's topic names (``domain.invoice:Invoice.Created`` -> Invoice)."""
    name = topic.rpartition(":")[2]
    return name.partition(".")[0] if "." in name else None


def unverified(stream: UUID | str, reason: str, stored: Sequence[StoredEvent] = ()) -> Unverified:
    """The refusal of a stream that did not verify (recorded and logged once)."""
    return refuse(str(stream), reason, kind_of(stored[0].topic) if stored else None)


class LedgerEventStore(EventStore[UUID]):
    """Seals every event it stores; the mapper alone would not know the previous hash.
    Checks the seals of the events it reads (``domain/verifying.py``) before any is served:
    a stream that does not verify is refused with ``Unverified``, never projected into an
    aggregate."""

    def __init__(self, mapper: Mapper[UUID], recorder: AggregateRecorder) -> None:
        super().__init__(mapper=mapper, recorder=recorder)
        self.seals = SealCache()  # the next event of a busy aggregate chains without a read
        self.heads = Heads()  # the versions last verified: the next read checks against them

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
        if desc:  # not a run of versions after a known one: each event on its own
            self.check_each(originator_id, stored)
        else:
            self.check_run(originator_id, stored, gt or 0)
        return map(self.mapper.to_domain_event, stored)

    def check_each(self, stream: UUID | str, stored: Sequence[StoredEvent]) -> None:
        """Checks each event's content against its own seal."""
        try:
            for event in stored:
                checked_event(event)
        except Unverifiable as exc:
            raise unverified(stream, exc.reason, stored) from None

    def check_run(self, stream: UUID | str, stored: Sequence[StoredEvent], after: int) -> None:
        """Checks ``stored``, the stream's versions from ``after + 1`` on, as a chain from
        version ``after`` (verified before, or read and checked now)."""
        if not stored:
            return
        try:
            head = check_chain(stored, self.head_of(stream, after))
        except Unverifiable as exc:
            raise unverified(stream, exc.reason, stored) from None
        self.heads.remember(stream, head)

    def head_of(self, stream: UUID | str, version: int) -> Head:
        """The stream's ``version`` as a verified chain link: remembered, or read and its
        content checked (its own ``prev`` is what a load from the start would check)."""
        if version <= 0:
            return START
        known = self.heads.get(stream, version)
        if known is not None:
            return known
        stored_seal = self.seals.get(stream, version)
        if stored_seal is not None:
            return Head(version, stored_seal[0])
        found = self.recorder.select_events(stream, gt=version - 1, lte=version)
        if not found:
            raise Unverifiable(f"version {version} is missing")
        digest, prev = checked_event(found[0])
        head = Head(version, digest, sealed=prev is not None)
        self.heads.remember(stream, head)
        return head

    def put(self, domain_events: Sequence[DomainEventProtocol[UUID]], **kwargs: Any) -> list[Recording[UUID]]:
        stored_events, latest = self.seal(domain_events)
        notification_ids = self.recorder.insert_events(stored_events, **kwargs)
        if not notification_ids:
            return []
        self.seals.remember(latest)  # only now: an event that failed to store is not a seal
        return [
            Recording(
                domain_event,
                Notification(
                    id=notification_id,
                    originator_id=stored.originator_id,
                    originator_version=stored.originator_version,
                    topic=stored.topic,
                    state=stored.state,
                ),
            )
            for domain_event, stored, notification_id in zip(
                domain_events, stored_events, notification_ids, strict=True
            )
        ]

    def seal(
        self, domain_events: Sequence[DomainEventProtocol[UUID]]
    ) -> tuple[list[StoredEvent], dict[UUID, tuple[int, str, str]]]:
        """The events sealed, and each aggregate's last (version, hash, account) among them."""
        actor = current_actor().as_dict()
        latest: dict[UUID, tuple[int, str, str]] = {}
        sealed = []
        for domain_event in domain_events:
            plain = self.mapper.to_stored_event(domain_event)
            aggregate_id, version = domain_event.originator_id, plain.originator_version
            before = latest.get(aggregate_id)
            prev, account = (before[1], before[2]) if before else self._before(domain_event, version)
            state = parse_state(plain.state)
            state[LEDGER] = {"account": account, "actor": actor, "prev": prev}
            state[LEDGER]["hash"] = digest = event_hash(str(aggregate_id), version, plain.topic, state)
            latest[aggregate_id] = (version, digest, account)
            sealed.append(StoredEvent(plain.originator_id, version, plain.topic, canonical(state)))
        return sealed, latest

    def _before(self, domain_event: DomainEventProtocol[UUID], version: int) -> tuple[str, str]:
        """The previous version's hash and the account, from the store."""
        aggregate_id = domain_event.originator_id
        if version <= 1:
            return GENESIS, account_of_first(domain_event)
        remembered = self.seals.get(aggregate_id, version - 1)
        if remembered is not None:
            return remembered
        previous = self.recorder.select_events(aggregate_id, lte=version - 1, desc=True, limit=1)
        if not previous:
            return GENESIS, account_of_first(domain_event)
        ledger = ledger_of(previous[0])
        if ledger is not None:
            return str(ledger["hash"]), str(ledger["account"])
        # Recorded before sealing began: chain to a hash of its content.
        first = self.recorder.select_events(aggregate_id, lte=1, limit=1)
        account = account_of_first(self.mapper.to_domain_event(first[0])) if first else str(aggregate_id)
        return stored_hash(previous[0]), account


def recorded_on(domain_event: DomainEventProtocol[UUID]) -> datetime:
    """When an event was recorded (aware, UTC): every aggregate event carries it."""
    moment: datetime = vars(domain_event)["timestamp"]
    return moment
