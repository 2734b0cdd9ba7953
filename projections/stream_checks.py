"""The seals of the events a projection applies, checked before any row is made of them.

Every event's content is checked against its own seal (``domain.verifying``: on the stored
bytes, a few microseconds). A rebuild reads every stream from its first event, so it also
checks each stream's chain: versions one after another from 1, each ``prev`` the hash of
the version before. It keeps, per stream, the last version and the first 64 bits of its
hash (one integer each, about 120 bytes a stream while the rebuild runs): forging an event
that chains to a 64-bit prefix is as far out of reach as forging the hash. A live
projection starts mid-stream, where a load of the aggregate checks the chain instead.
"""

from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.ledger import unverified
from domain.seals import GENESIS
from domain.verifying import Unverifiable, checked_event, out_of_sequence

_PREFIX = 16  # hex digits of a hash kept per stream: 64 bits


def _short(hash_hex: str) -> int:
    return int(hash_hex[:_PREFIX], 16)


class StreamChecks:
    def __init__(self, chains: bool) -> None:
        # stream id (as an integer) -> version << 64 | the first 64 bits of its hash
        self._chains: dict[int, int] | None = {} if chains else None

    def check(self, stored: StoredEvent) -> None:
        """Refuses (``Unverified``, recorded and logged once) an event that does not verify."""
        try:
            self._check(stored)
        except Unverifiable as exc:
            raise unverified(stored.originator_id, exc.reason, [stored]) from None

    def _check(self, stored: StoredEvent) -> None:
        digest, prev = checked_event(stored)
        chains = self._chains
        if chains is None:
            return
        stream = stored.originator_id
        key, version = (stream if isinstance(stream, UUID) else UUID(stream)).int, stored.originator_version
        before = chains.get(key)
        last, last_hash = (before >> 64, before & (2**64 - 1)) if before is not None else (0, _short(GENESIS))
        if version != last + 1:
            raise out_of_sequence(version, last)
        if prev is not None and _short(prev) != last_hash:
            raise Unverifiable(f"version {version} does not chain to version {last}")
        chains[key] = version << 64 | _short(digest)
