"""Verification of the ledger: the raw stored events against themselves (every aggregate's
hash chain), against what the follower recorded as they were committed (each position's
event, hash and account digest), and against digests an auditor saved earlier.

The walk is in commit order and the first broken thing is kept: an aggregate and version
for a broken chain, an account and position for a digest, a missing event or a reordered
one. The walk goes on to the end regardless, so every saved digest is checked: one saved
before a change still matches, which proves nothing at or before it changed.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper

from domain.ledger import GENESIS
from projections.ledger_index import LedgerEntry, LedgerIndex
from projections.ledger_walk import Walked, walk

ENTRY_BATCH = 1000
CHANGED = "edited, deleted, inserted or reordered"


@dataclass(frozen=True)
class SavedDigest:
    """A ``GET /ledger/digest`` body an auditor kept."""

    account_id: str
    position: int
    digest: str


@dataclass(frozen=True)
class SavedCheck:
    saved: SavedDigest
    found: str | None  # the account's digest through that position as the store holds it now

    @property
    def matches(self) -> bool:
        return self.found == self.saved.digest


@dataclass(frozen=True)
class Break:
    """The first broken thing: ``aggregate_id`` and ``version`` for a chain, else the
    account and position."""

    position: int
    problem: str
    account_id: str | None = None
    aggregate_id: str | None = None
    version: int | None = None

    def __str__(self) -> str:
        if self.aggregate_id is not None and self.version is not None:
            return f"aggregate {self.aggregate_id} version {self.version} (position {self.position}): {self.problem}"
        return f"account {self.account_id} position {self.position}: {self.problem}"


@dataclass
class Audit:
    events: int = 0
    aggregates: int = 0
    accounts: int = 0
    unsealed: int = 0  # stored before sealing began: hashed from content, no stored hash to check
    compared: int = 0  # positions compared with what the follower recorded
    follower_position: int = 0
    first_break: Break | None = None
    saved: list[SavedCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_break is None and all(check.matches for check in self.saved)


def _entries(index: LedgerIndex, account: str | None) -> Iterator[LedgerEntry]:
    after = 0
    while batch := index.entries(after, ENTRY_BATCH, account):
        yield from batch
        after = batch[-1].position


class _Auditor:
    def __init__(self, index: LedgerIndex, account: str | None, saved: Sequence[SavedDigest]) -> None:
        self.account = account
        self.report = Audit(follower_position=index.position())
        self.entries = _entries(index, account)
        self.entry = next(self.entries, None)
        self.saved = sorted(saved, key=lambda s: s.position)
        self.chains: dict[str, tuple[int, str | None, str]] = {}  # aggregate -> (version, hash, account)
        self.digests: dict[str, str | None] = {}
        self.accounts: set[str] = set()

    def broken(self, found: Break) -> None:
        if self.report.first_break is None:
            self.report.first_break = found

    def visit(self, event: Walked) -> None:
        self.passed(event.position)
        in_scope = self.account is None or event.account in (self.account, None)
        if in_scope:
            self.chain(event)
        self.compare(event, in_scope)
        if event.account is not None:
            self.digests[event.account] = event.digest

    def finish(self) -> Audit:
        self.passed(None)
        self.report.aggregates = len(self.chains)
        self.report.accounts = len(self.accounts)
        return self.report

    # --- an aggregate's chain ------------------------------------------------------------

    def chain(self, event: Walked) -> None:
        self.report.events += 1
        if event.account is not None:
            self.accounts.add(event.account)
        if event.problem is None and event.seal is None:
            self.report.unsealed += 1
        version, prev, account = self.chains.get(event.aggregate_id, (0, GENESIS, event.account or ""))
        self.chains[event.aggregate_id] = (event.version, event.hash, account)
        if event.version != version + 1:
            after = f"right after version {version}" if version else "first"
            problem = f"missing or out of order: version {event.version} is stored here {after}"
            self.broken(Break(event.position, problem, event.account, event.aggregate_id, version + 1))
            return
        found = event.problem or self._seal_problem(event, version, prev, account)
        if found is not None:
            self.broken(Break(event.position, found, event.account, event.aggregate_id, event.version))

    @staticmethod
    def _seal_problem(event: Walked, version: int, prev: str | None, account: str) -> str | None:
        seal = event.seal
        if seal is None:  # stored before sealing began: nothing of its own to check
            return None
        if seal["hash"] != event.hash:
            return "its stored hash does not match its content: edited after it was recorded"
        if seal["prev"] != prev:
            before = f"the hash of version {version}" if version else "GENESIS (64 zeros)"
            return f"its prev is not {before}: an earlier version was changed or replaced"
        if event.account != account:
            return f"it names account {event.account}, not its aggregate's account {account}"
        return None

    # --- what the follower recorded as events were committed ------------------------------

    def compare(self, event: Walked, in_scope: bool) -> None:
        entry = self.entry if self.entry is not None and self.entry.position == event.position else None
        here = f"aggregate {event.aggregate_id} version {event.version}"
        if entry is None:
            if in_scope and event.position <= self.report.follower_position:
                problem = f"the store holds {here} here, which the follower never recorded: inserted afterwards"
                self.broken(Break(event.position, problem, event.account))
            return
        self.entry = next(self.entries, None)
        self.report.compared += 1
        recorded = f"aggregate {entry.aggregate_id} version {entry.version}"
        if (entry.aggregate_id, entry.version, entry.account_id) != (event.aggregate_id, event.version, event.account):
            problem = f"the follower recorded {recorded} here; the store now holds {here}: events were {CHANGED}"
        elif entry.hash != event.hash:
            problem = f"{here} differs from what the follower recorded: edited after it was committed"
        elif entry.digest != event.digest:
            problem = f"the account's digest differs from the one the follower recorded: an earlier event was {CHANGED}"
        else:
            return
        self.broken(Break(event.position, problem, entry.account_id))

    def passed(self, position: int | None) -> None:
        """Everything before ``position`` (None: the end) has been walked: recorded
        entries left behind are gone from the store, saved digests before it are due."""
        while True:
            entry_at = self.entry.position if self.entry is not None else None
            saved_at = self.saved[0].position if self.saved else None
            due = [at for at in (entry_at, saved_at) if at is not None and (position is None or at < position)]
            if not due:
                return
            if self.entry is not None and entry_at == min(due):  # a deletion names more than a digest
                self._gone(self.entry)
                self.entry = next(self.entries, None)
            else:
                self._due(self.saved.pop(0))

    def _gone(self, entry: LedgerEntry) -> None:
        self.report.compared += 1
        recorded = f"aggregate {entry.aggregate_id} version {entry.version}"
        problem = f"the follower recorded {recorded} here, but the store no longer holds it: deleted"
        self.broken(Break(entry.position, problem, entry.account_id))

    def _due(self, saved: SavedDigest) -> None:
        check = SavedCheck(saved, self.digests.get(saved.account_id, GENESIS))
        self.report.saved.append(check)
        if not check.matches:
            problem = f"the digest saved for this position does not match: something at or before it was {CHANGED}"
            self.broken(Break(saved.position, problem, saved.account_id))


def audit(
    recorder: ApplicationRecorder,
    mapper: Mapper[UUID],
    index: LedgerIndex,
    account: str | None = None,
    saved: Sequence[SavedDigest] = (),
) -> Audit:
    """Checks every chain, digest and recorded position (of one account, or all) and the
    saved digests; ``Audit.first_break`` names the first broken thing in commit order."""
    auditor = _Auditor(index, account, saved)
    for event in walk(recorder, mapper):
        auditor.visit(event)
    return auditor.finish()
