"""Aggregates a command can take as they are, without reading the store.

eventsourcing's repository cache brings a cached aggregate up to date on every load (one
read of the events after its version: usually none). A create loads four (the account,
the client, the month's quota and the numbering): four reads that find nothing, in a
transaction that already holds the database's write lock. This cache knows instead up to
which position of the store every aggregate it holds is current (``head``), so a command
whose transaction starts at that same head takes them with no read at all:

- ``begin(head)``: in the command's transaction, with the store's head read once. Events
  another writer committed since (``foreign(known, head)``: their aggregates, one read of
  the positions in between) are evicted; a gap too long clears it all.
- an aggregate loaded from the store inside the command is current at least up to the
  head (``loaded``), and one the command saved is current at its own new events once they
  commit (``recorded`` then ``committed``).
- anything unsure clears it: a rollback after events were written, a racing version
  (``clear``). A command that does not run in a shared transaction never uses it.

It also knows this process's last committed event, so the timeline's "latest recorded
time" (``domain.timeline``) needs no read when that event is still the head.
Entries are deep copies, and so is what ``get`` hands out: a command mutates its own copy.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from copy import deepcopy
from datetime import datetime
from typing import Any
from uuid import UUID

MAX_GAP = 1000  # positions written elsewhere beyond which reading them costs more than a clear


class CommandCache:
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[UUID, Any] = OrderedDict()
        self._head: int | None = None  # every entry holds every event up to this position
        self._last: tuple[int, datetime] | None = None  # this process's last committed event
        self._lock = threading.Lock()
        self._local = threading.local()

    def begin(self, head: int, foreign: Callable[[int, int], Iterable[UUID]]) -> None:
        """A command's transaction starts at ``head``; ``foreign(a, b)`` names the aggregates
        of the events at positions after ``a`` through ``b``."""
        with self._lock:
            known = self._head
            if known is None or head < known or head - known > MAX_GAP:
                self._items.clear()
            elif head > known:
                for aggregate_id in foreign(known, head):
                    self._items.pop(aggregate_id, None)
            self._head = head
            last = self._last
        local = self._local
        local.start, local.saved, local.last = head, {}, None
        local.head_time = last[1] if last is not None and last[0] == head else None

    def end(self) -> None:
        self._local.start = None

    def _running(self) -> bool:
        return getattr(self._local, "start", None) is not None

    def get(self, aggregate_id: UUID) -> Any | None:
        """A copy of the aggregate as of the head, or None (not held, or no command running)."""
        if not self._running():
            return None
        with self._lock:
            found = self._items.get(aggregate_id)
            if found is not None:
                self._items.move_to_end(aggregate_id)
        return deepcopy(found) if found is not None else None

    def loaded(self, aggregate: Any) -> None:
        """An aggregate the running command read from the store, before it changes it."""
        if not self._running():
            return
        kept = deepcopy(aggregate)
        with self._lock:
            if self._head == self._local.start:  # else another command moved on: not sure of it
                self._put(kept.id, kept)

    def recorded(self, aggregates: Mapping[UUID, Any], last: tuple[int, datetime]) -> None:
        """The running command stored these aggregates' events, the last at ``last`` (position, time)."""
        if not self._running():
            return
        self._local.saved.update(aggregates)
        self._local.last = last
        self._local.head_time = None  # the head is now this command's own event: read it if asked

    def committed(self) -> None:
        """The running command's transaction committed."""
        if not self._running() or not self._local.saved:
            return
        with self._lock:
            if self._head == self._local.start and self._local.last is not None:
                for aggregate_id, aggregate in self._local.saved.items():
                    self._put(aggregate_id, aggregate)
                self._head, self._last = self._local.last[0], self._local.last
            else:
                for aggregate_id in self._local.saved:
                    self._items.pop(aggregate_id, None)
        self._local.saved = {}

    def head_time(self) -> datetime | None:
        """When the store's head was recorded, if the running command knows it without a read."""
        return getattr(self._local, "head_time", None) if self._running() else None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._head = self._last = None

    def _put(self, aggregate_id: UUID, aggregate: Any) -> None:
        self._items[aggregate_id] = aggregate
        self._items.move_to_end(aggregate_id)
        while len(self._items) > self._size:
            self._items.popitem(last=False)
