"""Recorded times that never go backwards, whatever the host's clock does.

Every event of one save is recorded at one moment, the save's *stamp*:

    stamp = max(now,                                    # the application's clock
                latest + 1 µs,                          # the latest time recorded in the store
                previous event of each saved stream + 1 ms,
                this process's previous save in the account + 1 ms)

``latest`` is the later of the time of the store's last event in commit order (read before
each save, so another process's or host's writes count) and the latest stamp this process
gave. Commit order is the feed's order, so an account's feed (and the whole store) runs
forward; each stream runs forward by at least a millisecond, the API's precision, so
``asOf`` at an event's own ``occurredAt`` names exactly that version.

A clock stepped back is *clamped*: times stay at the latest recorded one (plus the steps)
until the clock passes it; how far it was behind is logged once per episode and kept for
``/readyz``. A clock stepped forward and back again leaves times at the forward time until
the clock catches up with it: order is kept at the cost of times ahead of the real ones.

The stamp is set on the events at save time (``restamp``) rather than when each is
triggered: one save's events then share one time, and the stream floors are only known
once every aggregate of the command is loaded. ``Stamped.trigger_event`` records the floor
of each stream (its previous time + 1 ms) as the event's provisional timestamp.
"""

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate, CanMutateAggregate

log = logging.getLogger("cleverinvo.clock")

STREAM_STEP = timedelta(milliseconds=1)  # between two saves of one stream: the API's precision
STORE_STEP = timedelta(microseconds=1)  # between two saves: what the stores keep
NOISE = STREAM_STEP  # a clock behind by no more than this is not a step back
LOG_AFTER = timedelta(seconds=1)
ACCOUNTS_KEPT = (
    10_000  # accounts whose last save this process remembers  # a step back this large starts a logged episode
)


class Stamped(Aggregate):
    """An aggregate whose events' times are set when they are saved (``restamp``)."""

    def trigger_event(self, event_class: type[CanMutateAggregate[Any]], **kwargs: Any) -> None:
        # Provisional: the stream's floor. The save replaces it with the save's stamp.
        kwargs["timestamp"] = self.modified_on + STREAM_STEP
        super().trigger_event(event_class, **kwargs)


def accounts(aggregates: Iterable[Aggregate]) -> set[object]:
    """The accounts the aggregates belong to (an account is its own)."""
    return {getattr(aggregate, "account_id", None) or aggregate.id for aggregate in aggregates}


def floors(aggregates: Iterable[Aggregate]) -> list[datetime]:
    """Each saved stream's floor: its pending events carry provisional times, each a step
    past the one before it, the first a step past the stream's stored last event."""
    found = []
    for aggregate in aggregates:
        pending = aggregate.pending_events
        if pending and pending[0].originator_version > 1:  # a stream created now has no floor
            found.append(max(event.timestamp for event in pending))
    return found


def restamp(aggregates: Sequence[Aggregate], stamp: datetime) -> None:
    """Sets every pending event of ``aggregates`` to ``stamp``, and the aggregates' times as a
    replay of the stored events will set them."""
    for aggregate in aggregates:
        for pending in aggregate.pending_events:
            object.__setattr__(pending, "timestamp", stamp)  # a frozen dataclass, not yet stored
            if pending.originator_version == 1:
                aggregate._created_on = stamp  # noqa: SLF001  # as Aggregate.__base_init__ sets it
        if aggregate.pending_events:
            aggregate.modified_on = stamp


@dataclass(frozen=True)
class ClockState:
    latest: datetime | None  # the latest time recorded (by this process or seen in the store)
    behind: timedelta  # how far the clock is behind it now (zero when it is not)
    largest_step_back: timedelta  # the most the clock was behind when a save was clamped
    clamped_saves: int  # saves whose time was held past the clock's


class Timeline:
    """Gives each save its stamp; thread-safe. ``head`` reads the time of the store's last
    event in commit order (None for an empty store)."""

    def __init__(self, clock: Callable[[], datetime], head: Callable[[], datetime | None]) -> None:
        self._clock = clock
        self._head = head
        self._lock = threading.Lock()
        self._latest: datetime | None = None
        self._seeded = False
        self._high: datetime | None = None  # the latest the clock read, or the store's at start
        self._largest = timedelta(0)
        self._clamped = 0
        self._episode = False
        self._accounts: OrderedDict[object, datetime] = OrderedDict()  # this process's last save in each

    def _seen(self, moment: datetime | None) -> None:
        if moment is not None and (self._latest is None or moment > self._latest):
            self._latest = moment

    def _seed(self, head: datetime | None) -> None:
        """Once per process: the store's latest time is where values are held from."""
        if not self._seeded:
            self._seeded = True
            if head is not None and (self._high is None or head > self._high):
                self._high = head

    def now(self) -> datetime:
        """The time a command writes into its values (sentAt, a payment's createdAt): the
        clock, held at the latest it read (or the store's latest time when this process
        started) while it is behind that; without the stamps' steps, which only set saves
        apart."""
        head = self._head() if not self._seeded else None
        now = self._clock()
        with self._lock:
            self._seed(head)
            if self._high is None or now > self._high:
                self._high = now
            return self._high

    def stamp(self, stream_floors: Iterable[datetime], accounts: Iterable[object] = ()) -> datetime:
        """The moment the save about to be made is recorded at: past the store's latest
        event, each stream's previous one and (by a millisecond, the API's precision, so
        that ``asOf`` tells them apart) this process's previous save in each account."""
        head = self._head()  # outside the lock: a query
        now = self._clock()
        steps = list(stream_floors)
        with self._lock:
            self._seed(head)
            self._seen(head)
            if self._high is None or now > self._high:
                self._high = now
            for account in set(accounts):
                before = self._accounts.get(account)
                if before is not None:
                    steps.append(before + STREAM_STEP)
            known = [self._latest] if self._latest is not None else []
            stamp = max([now] + [latest + STORE_STEP for latest in known] + steps)
            self._note(now, max(known + [step - STREAM_STEP for step in steps], default=None))
            self._latest = stamp
            for account in set(accounts):
                self._accounts[account] = stamp
                self._accounts.move_to_end(account)
            while len(self._accounts) > ACCOUNTS_KEPT:
                self._accounts.popitem(last=False)
            return stamp

    def _note(self, now: datetime, previous: datetime | None) -> None:
        behind = previous - now if previous is not None and previous > now else timedelta(0)
        if behind <= NOISE:  # the steps themselves, when saves come faster than the clock ticks
            behind = timedelta(0)
        if behind > timedelta(0):
            self._clamped += 1
            self._largest = max(self._largest, behind)
        if behind >= LOG_AFTER and not self._episode:
            self._episode = True
            log.warning(
                "The clock is %.3f s behind the latest recorded time (%s): new events are recorded at it "
                "until the clock catches up, so that history and the feed keep their order",
                behind.total_seconds(),
                previous.isoformat() if previous else "",
            )
        elif behind == timedelta(0) and self._episode:
            self._episode = False
            log.info("The clock has caught up with the latest recorded time; events are recorded at the clock's")

    def state(self) -> ClockState:
        now = self._clock()
        with self._lock:
            latest = self._latest
            behind = latest - now if latest is not None and latest > now else timedelta(0)
            return ClockState(latest, behind, self._largest, self._clamped)
