"""The machinery every command runs on: the event store that seals, the clock that stamps
each save (``domain.timeline``), loading aggregates, retrying a racing save, one account's
commands at a time. The commands themselves are in ``*_commands`` (``domain.application``
puts them together)."""

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, LRUCache
from eventsourcing.domain import Aggregate, DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import EventStore, IntegrityError, JSONTranscoder, Mapper, Recording

from domain.account import Account
from domain.client import Client
from domain.command_cache import CommandCache
from domain.errors import Conflict, NotFound
from domain.invoice import Invoice
from domain.ledger import LedgerEventStore, LedgerMapper, recorded_on
from domain.snapshots import LedgerSnapshotStore
from domain.timeline import Timeline, accounts, floors, restamp
from domain.transcodings import DateAsISO, LineItemAsDict, PaymentAsDict

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)
Clock = Callable[[], datetime]

# A racing save fails on an aggregate's version and the command is run again on fresh
# state; this many tries is far past any contention one account sees.
MAX_ATTEMPTS = 30
# Aggregates kept in memory between commands (eventsourcing's repository cache). A cached
# one is brought up to date from the store on every load (fast-forward: the events after
# its version, usually none), so other processes' writes are seen, and a command gets a
# copy, so a refused command leaves the cached one untouched. An account's small counting
# aggregates (quotas, numbering) are loaded by every create: cached, they are one indexed
# read each instead of a snapshot and up to 49 events replayed.
AGGREGATE_CACHE_SIZE = 2000
# Commands on one account run one at a time in a process (a lock per stripe of accounts):
# every create saves the account's quota and numbering aggregates, so concurrent creates in
# one account would otherwise all fail on their versions but one, and retry. Measured with
# 32 connections creating invoices: 13 ms of CPU per create against 7 ms with one. Racing
# processes still meet on versions and retry.
ACCOUNT_STRIPES = 256


class Transactions(Protocol):
    """Where a command's reads and writes of the store run (``database.event_transactions``'s
    ``UnitOfWork``: one transaction, with the read model's rows, per command)."""

    def __call__(self) -> AbstractContextManager[None]: ...

    def written(self, notifications: Sequence[Any]) -> None:
        """Tells the open transaction that events were stored in it, as these notifications."""


class OwnTransactions:
    """No shared transaction: each of the store's reads and writes runs in its own (what
    eventsourcing does by itself; an application the composition root did not wire)."""

    def __call__(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def written(self, notifications: Sequence[Any]) -> None:
        pass


def replay(aggregate: Any, events: Iterable[DomainEventProtocol[UUID]]) -> Any:
    """eventsourcing's ``project_aggregate`` without its per-event ``isinstance`` against a
    runtime-checkable Protocol (12-20 µs each on Python 3.11): every event here is one of
    our aggregates' own, or a snapshot, and mutates."""
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)  # type: ignore[attr-defined]
    return aggregate


def utc_now() -> datetime:
    return datetime.now(UTC)


class Saving(Application[UUID]):
    """An eventsourcing application whose saves are sealed and stamped; no commands of its own."""

    env = {"AGGREGATE_CACHE_MAXSIZE": str(AGGREGATE_CACHE_SIZE)}  # the environment may say otherwise

    def __init__(self, env: Mapping[str, str] | None = None, clock: Clock = utc_now) -> None:
        super().__init__(env)
        self.clock = clock
        self.timeline = Timeline(clock, self._head_time)  # recorded times never go backwards
        self._stripes = [threading.RLock() for _ in range(ACCOUNT_STRIPES)]
        self.transactions: Transactions = OwnTransactions()  # the composition root shares the read model's
        self._commands = CommandCache(AGGREGATE_CACHE_SIZE)  # used only in shared transactions

    def forget_uncommitted(self) -> None:
        """After a transaction that stored events rolled back: what this process cached of
        the store (aggregates, verified stream heads) may hold versions that were never
        committed, so it is all dropped and read again."""
        cache = self.repository.cache  # a new one: LRUCache.clear() keeps its entries' index
        if isinstance(cache, LRUCache):
            self.repository.cache = LRUCache(maxsize=cache.maxsize)
        if isinstance(self.events, LedgerEventStore):
            self.events.heads.clear()
            self.events.seals.clear()
        folded = getattr(self.snapshots, "folded", None)
        if folded is not None:
            folded.clear()
        self._commands.clear()

    @property
    def shares_transactions(self) -> bool:
        """Whether commands run in the read model's transaction (wired by the composition root)."""
        return not isinstance(self.transactions, OwnTransactions)

    def committed(self) -> None:
        """After a shared transaction committed (the composition root calls it)."""
        self._commands.committed()

    def _begin_command(self) -> None:
        """At the start of a command's shared transaction: the command cache brought to the
        store's head (``domain.command_cache``); one read, which the timeline reuses."""
        if not self.shares_transactions:
            return
        head = self.recorder.max_notification_id() or 0
        self._commands.begin(head, self._written_between)

    def _written_between(self, after: int, upto: int) -> list[UUID]:
        found = self.recorder.select_notifications(start=after, limit=upto - after, stop=upto, inclusive_of_start=False)
        return [UUID(str(notification.originator_id)) for notification in found]

    def construct_mapper(self) -> Mapper[UUID]:
        return LedgerMapper(transcoder=self.construct_transcoder())

    def construct_event_store(self) -> EventStore[UUID]:
        """Events are sealed into the ledger as they are stored (``domain.ledger``)."""
        return LedgerEventStore(mapper=self.mapper, recorder=self.recorder)

    def construct_snapshot_store(self) -> EventStore[UUID]:
        """Snapshots are sealed to the event they fold, and checked as they are loaded."""
        if not isinstance(self.events, LedgerEventStore):  # an application that does not seal
            return super().construct_snapshot_store()
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        return LedgerSnapshotStore(mapper=self.mapper, recorder=recorder, events=self.events)

    def _head_time(self) -> datetime | None:
        """When the store's last event in commit order was recorded (None: no event yet)."""
        known = self._commands.head_time()  # this process's own last event, still the head
        if known is not None:
            return known
        head = self.recorder.max_notification_id()
        found = self.recorder.select_notifications(start=head, limit=1) if head else []
        return recorded_on(self.mapper.to_domain_event(found[0])) if found else None

    def now(self) -> datetime:
        """The time a command writes into its values: the clock, held at the latest recorded
        time while it is behind it (domain/timeline.py)."""
        return self.timeline.now()

    def save(
        self, *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None, **kwargs: Any
    ) -> list[Recording[UUID]]:
        """Records the aggregates' pending events, all at the save's stamp (domain/timeline.py):
        never before the store's latest event nor each stream's previous one."""
        with self.transactions():  # the command's, or one of its own (a save outside a command)
            aggregates = [obj for obj in objs if isinstance(obj, Aggregate)]
            if any(aggregate.pending_events for aggregate in aggregates):
                restamp(aggregates, self.timeline.stamp(floors(aggregates), accounts(aggregates)))
            return super().save(*objs, **kwargs)

    def _record(self, processing_event: Any) -> list[Recording[UUID]]:
        recordings = super()._record(processing_event)
        if recordings:
            self.transactions.written([recording.notification for recording in recordings])
            last = recordings[-1]
            self._commands.recorded(processing_event.aggregates, (last.notification.id, recorded_on(last.domain_event)))
        return recordings

    @property
    def ledger(self) -> LedgerEventStore | None:
        """The sealing event store (None for an application that does not seal)."""
        return self.events if isinstance(self.events, LedgerEventStore) else None

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(LineItemAsDict())
        transcoder.register(PaymentAsDict())

    # --- helpers -------------------------------------------------------------------

    def _retrying(self, command: Callable[[], T], account_id: UUID | None = None) -> T:
        with self._serialized(account_id):
            for attempt in range(MAX_ATTEMPTS):
                try:
                    with self.transactions():  # the command's reads, events and rows: one commit
                        self._begin_command()
                        return command()
                except IntegrityError:
                    self._commands.clear()  # a version it held may be behind: read them all again
                    time.sleep(random.uniform(0, 0.001 * 2 ** min(attempt, 6)))
                finally:
                    self._commands.end()
        raise Conflict("Too many concurrent changes to this account; try again")

    def _serialized(self, account_id: UUID | None) -> AbstractContextManager[Any]:
        """The account's stripe lock (re-entrant), or nothing for a command without one."""
        if account_id is None:
            return contextlib.nullcontext()
        return self._stripes[account_id.int % ACCOUNT_STRIPES]

    def _get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        aggregate: Aggregate | None = self._commands.get(aggregate_id)
        if aggregate is None:
            try:
                aggregate = self.repository.get(aggregate_id, projector_func=replay)
            except AggregateNotFoundError:
                return None
            self._commands.loaded(aggregate)
        return aggregate if isinstance(aggregate, cls) else None

    def _load(self, cls: type[A], aggregate_id: UUID) -> A:
        """Loads an aggregate that the account's own aggregates guarantee to exist."""
        aggregate = self._get(cls, aggregate_id)
        if aggregate is None:
            raise NotFound(f"{cls.__name__} not found")
        return aggregate

    def sealed_events(
        self, aggregate_id: UUID, after: int = 0, upto: int | None = None
    ) -> list[tuple[DomainEventProtocol[UUID], dict[str, Any] | None]]:
        """The aggregate's events after version ``after`` (through ``upto``), each with
        its ``_ledger`` seal (actor, hashes); None for one stored before sealing began."""
        mapper = cast(LedgerMapper, self.mapper)
        found = self.recorder.select_events(aggregate_id, gt=after or None, lte=upto)
        if self.ledger is not None:  # checked as a load checks them: never told if not verified
            self.ledger.check_run(aggregate_id, found, after)
        return [mapper.read(stored) for stored in found]

    def sealed_event(self, position: int) -> tuple[DomainEventProtocol[UUID], dict[str, Any] | None] | None:
        """The event at ``position`` in commit order (its notification id), with its seal."""
        found = self.recorder.select_notifications(start=position, limit=1)
        if not found or found[0].id != position:
            return None
        if self.ledger is not None:
            self.ledger.check_each(found[0].originator_id, found)
        return cast(LedgerMapper, self.mapper).read(found[0])

    def get_account(self, account_id: UUID) -> Account:
        account = self._get(Account, account_id)
        if account is None:
            raise NotFound("Account not found")
        return account

    def get_client(self, account_id: UUID, client_id: UUID) -> Client:
        client = self._get(Client, client_id)
        if client is None or client.account_id != account_id:
            raise NotFound("Client not found")
        return client

    def get_invoice(self, account_id: UUID, invoice_id: UUID) -> Invoice:
        invoice = self._get(Invoice, invoice_id)
        if invoice is None or invoice.account_id != account_id or invoice.is_deleted:
            raise NotFound("Invoice not found")
        return invoice

    def version_of(self, aggregate_id: UUID) -> int | None:
        """The aggregate's latest version in the store (one indexed read), None if it has none."""
        found = self.recorder.select_events(aggregate_id, desc=True, limit=1)
        return found[0].originator_version if found else None
