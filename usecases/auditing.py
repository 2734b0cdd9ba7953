"""The auditor's reads: a record's history, the account's feed, the ledger's digest."""

import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from database.faults import storage_full
from domain.errors import NotFound, ValidationError
from domain.ledger import account_of_first
from projections.ledger_index import LedgerDigest
from projections.past import Past
from usecases.core import Core
from usecases.history import CLIENT, INVOICE, Kind, Narrator, kind_of, narrate

log = logging.getLogger("cleverinvo")

FEED_LIMIT, FEED_MAX = 100, 500
# The ledger index keeps positions in a 32-bit column (projections/ledger_index.py): nothing
# is recorded past this one, and PostgreSQL refuses to compare that column with a larger number.
LAST_POSITION = 2**31 - 1


@dataclass(frozen=True)
class FeedPage:
    data: list[dict[str, Any]]
    next: int


class Auditing:
    def __init__(self, core: Core) -> None:
        self.core = core

    def invoice_history(self, account: UUID, invoice_id: UUID) -> list[dict[str, Any]]:
        return self._history(account, invoice_id, INVOICE, "Invoice not found")

    def client_history(self, account: UUID, client_id: UUID) -> list[dict[str, Any]]:
        return self._history(account, client_id, CLIENT, "Client not found")

    def _history(self, account: UUID, record_id: UUID, kind: Kind, missing: str) -> list[dict[str, Any]]:
        """Every event of the account's record, told oldest first. A deleted invoice's
        history stays readable: deleting is one more event."""
        events = self.core.app.sealed_events(record_id)
        if not events or kind_of(events[0][0]) is not kind or account_of_first(events[0][0]) != str(account):
            raise NotFound(missing)
        return list(narrate(kind, events))

    def feed(self, account: UUID, after: int = 0, limit: int = FEED_LIMIT) -> FeedPage:
        """The account's invoice, client and account events after ``after``, in commit order.

        Positions come from the ledger follower's index, which grows only as a prefix of the
        commit order: following ``next`` from 0 sees every event once, never a gap or a
        repeat. Bookkeeping events (quotas, number indexes) are passed over, so ``next`` may
        run ahead of the last position returned."""
        if after < 0:
            raise ValidationError("Parameter 'after' must be an integer >= 0")
        if not 1 <= limit <= FEED_MAX:
            raise ValidationError(f"Parameter 'limit' must be an integer from 1 to {FEED_MAX}")
        core = self.core
        try:
            core.ledger.catch_up()
        except Exception as exc:
            # A read serves what is indexed when the index cannot be written (a full disk):
            # the index is a prefix of the commit order, so the page is one, and the events
            # not indexed yet come on a later read.
            if not storage_full(exc):
                raise
            log.warning("The feed's index could not catch up (the storage is full); serving what it holds")
        picked: list[tuple[int, Kind, Any, dict[str, Any] | None]] = []
        cursor = after
        while len(picked) < limit and cursor < LAST_POSITION:
            positions = core.ledger.feed(str(account), cursor, limit)
            for position in positions:
                cursor = position
                sealed = core.app.sealed_event(position)
                kind = kind_of(sealed[0]) if sealed else None
                if sealed is not None and kind is not None:
                    picked.append((position, kind, *sealed))
                    if len(picked) == limit:
                        break
            if len(positions) < limit:
                break
        past = Past(core.app)
        narrators: dict[UUID, Narrator] = {}
        data = []
        for position, kind, event, ledger in picked:
            record_id = event.originator_id
            if record_id not in narrators:  # the record as it was just before this event
                version = event.originator_version - 1
                narrators[record_id] = Narrator(kind, past.load(kind.record, record_id, version) if version else None)
            entry = narrators[record_id].tell(event, ledger)
            data.append({"position": position, "resource": {"type": kind.name, "id": str(record_id)}, **entry})
        return FeedPage(data, cursor)

    def digest(self, account: UUID) -> LedgerDigest:
        """The account's digest after its latest event, the follower caught up first."""
        self.core.ledger.catch_up()
        found = self.core.ledger.digest(str(account))
        if found is None:
            raise NotFound("Account not found")
        return found
