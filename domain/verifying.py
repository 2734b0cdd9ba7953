"""Checking a stream's seals as it is read, before anything is served from it.

What is checked is what ``domain/ledger.py`` sealed (and ``cleverinvo ledger verify``
checks the whole store for): each event's hash recomputed from its content equals the
hash in its seal, each seal's ``prev`` is the hash of the version before, and the
versions run on without a gap. An event stored before sealing began has no seal: its
hash is that of its content, and the next event's ``prev`` chains to it.

This runs on every load of an aggregate, so the common case is done on the stored bytes
without parsing them: a seal is written as canonical JSON (RFC 8785, keys sorted), so
``_ledger`` is the state's first member and ``"hash":"<64 hex>",`` its third, and the
bytes the hash was taken over are those bytes without it, inside the canonical body.
Bytes not in that form (rewritten by hand, say) are parsed and checked as
``ledger verify`` checks them: the verdict is the same, only slower.
"""

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.seals import GENESIS, LEDGER, event_hash, parse_state

_SEALED = b'{"' + LEDGER.encode() + b'":{"account":'
_HASH = b'"hash":"'
_PREV = b'"prev":"'


class Unverifiable(Exception):
    """A stream whose stored events do not verify; ``reason`` says where, in words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Head:
    """A verified version of a stream: the next event's ``prev`` must be ``hash``."""

    version: int
    hash: str
    sealed: bool = True  # False: stored before sealing began (what follows may be too)


START = Head(0, GENESIS, sealed=False)


_TOPICS: dict[str, bytes] = {}  # a topic -> its JSON string: a few dozen topics, met again and again


def _fast(stored: StoredEvent) -> tuple[str, str] | None:
    """(hash, prev) of a canonically sealed event whose content matches its seal; None when
    the bytes are not in the canonical sealed form (or do not match: the slow path says why)."""
    state = stored.state
    if not state.startswith(_SEALED):
        return None
    at = state.find(_HASH, len(_SEALED))
    after = at + 74
    if at < 0 or state[at + 72 : after] != b'",' or state[after : after + 8] != _PREV:
        return None
    if state[after + 72 : after + 74] != b'"}':
        return None
    topic = _TOPICS.get(stored.topic)
    if topic is None:
        topic = json.dumps(stored.topic, ensure_ascii=False).encode()
        if len(_TOPICS) < 1000:
            _TOPICS[stored.topic] = topic
    body = b"".join(
        (
            b'{"aggregateId":"',
            str(stored.originator_id).encode(),
            b'","state":',
            state[:at],
            state[after:],
            b',"topic":',
            topic,
            b',"version":',
            str(stored.originator_version).encode(),
            b"}",
        )
    )
    sealed_hash = state[at + 8 : at + 72].decode("ascii", "replace")
    if hashlib.sha256(body).hexdigest() != sealed_hash:
        return None
    return sealed_hash, state[after + 8 : after + 72].decode("ascii", "replace")


def checked_event(stored: StoredEvent) -> tuple[str, str | None]:
    """(hash, prev) of one stored event after checking its content against its seal; prev
    is None for an event stored before sealing began. Raises Unverifiable."""
    fast = _fast(stored)
    if fast is not None:
        return fast
    version = stored.originator_version
    try:
        state = parse_state(stored.state)
    except ValueError:  # not JSON, or a float: nothing the ledger ever stored
        raise Unverifiable(f"version {version} is not a stored event the ledger could have sealed") from None
    computed = event_hash(str(stored.originator_id), version, stored.topic, state)
    seal: Any = state.get(LEDGER)
    if seal is None:
        return computed, None
    if not isinstance(seal, dict) or not all(isinstance(seal.get(key), str) for key in ("hash", "prev")):
        raise Unverifiable(f"version {version} has a malformed seal")
    if seal["hash"] != computed:
        raise Unverifiable(f"version {version} does not match its seal: its content was changed")
    return computed, str(seal["prev"])


def out_of_sequence(version: int, last: int) -> Unverifiable:
    """The refusal of ``version`` read right after ``last``."""
    if version <= last:
        return Unverifiable(f"version {version} is stored out of order after version {last}")
    first, before = last + 1, version - 1
    return Unverifiable(f"version {first} is missing" if first == before else f"versions {first}-{before} are missing")


def check_chain(stored: Sequence[StoredEvent], after: Head = START) -> Head:
    """Checks ``stored`` (ascending, one stream) as the versions right after ``after``;
    returns the last one verified (``after`` when there are none). Raises Unverifiable."""
    head = after
    for event in stored:
        version = event.originator_version
        if version != head.version + 1:
            raise out_of_sequence(version, head.version)
        digest, prev = checked_event(event)
        if prev is None:
            if head.sealed:
                raise Unverifiable(f"version {version} has lost its seal")
        elif prev != head.hash:
            raise Unverifiable(f"version {version} does not chain to version {head.version}")
        head = Head(version, digest, sealed=prev is not None)
    return head


class Heads:
    """The last verified version of streams this process read, so that loading the events
    after a cached aggregate's version checks them against it without reading it again. A
    stored version never changes, so an entry is never stale (an edit made since is found
    by the next process, or the next load from the start)."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._heads: OrderedDict[UUID | str, Head] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, stream: UUID | str, version: int) -> Head | None:
        with self._lock:
            found = self._heads.get(stream)
        return found if found is not None and found.version == version else None

    def clear(self) -> None:
        """Forgets every head: after a rolled-back transaction, one may never have been stored."""
        with self._lock:
            self._heads.clear()

    def remember(self, stream: UUID | str, head: Head) -> None:
        with self._lock:
            self._heads[stream] = head
            self._heads.move_to_end(stream)
            while len(self._heads) > self._size:
                self._heads.popitem(last=False)
