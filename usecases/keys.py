"""API keys: issue (the key shown once), list with when each was last used, revoke.

The command line and the dashboard both come here; the key itself is never stored, only
its hash (``domain.keys``)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from domain.errors import NotFound
from projections.views import KeyView
from storage.key_usage import KeyUsage
from usecases.core import Core
from usecases.inputs import text


@dataclass(frozen=True)
class KeyListing:
    key: KeyView
    last_used_at: datetime | None  # naive UTC, to about a minute; None: never used


@dataclass(frozen=True)
class NewKey:
    key: KeyView
    secret: str  # shown once, then only its hash is kept


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


class Keys:
    def __init__(self, core: Core, usage: KeyUsage) -> None:
        self.core = core
        self.usage = usage

    def list(self, account: UUID) -> list[KeyListing]:
        """The account's keys, newest first, revoked ones too."""
        if self.core.read.account(str(account)) is None:
            raise NotFound("Account not found")
        keys = sorted(self.core.read.keys(str(account)), key=lambda k: (k.created_at, k.id), reverse=True)
        used = self.usage.last_used([key.id for key in keys])
        return [KeyListing(key, used.get(key.id)) for key in keys]

    def create(self, account: UUID, label: str) -> NewKey:
        name = text(label, "name") or ""
        app = self.core.app
        key_id, secret = self.core.execute(lambda: app.issue_api_key(account, name))
        view = self.core.read.key(str(key_id))
        if view is None:  # pragma: no cover - execute() has applied it
            raise NotFound("No such API key")
        return NewKey(view, secret)

    def get(self, key_id: str) -> KeyView | None:
        """The key, revoked or not (a subscription checks that its key still holds)."""
        return self.core.read.key(key_id)

    def revoke(self, account: UUID, key_id: UUID) -> KeyView:
        """Revokes one of the account's keys at once (a key of another account is not found)."""
        self.core.execute(lambda: self.core.app.revoke_api_key(account, key_id))
        view = self.core.read.key(str(key_id))
        if view is None:  # pragma: no cover - the domain found it
            raise NotFound("No such API key")
        return view

    def revoke_by_id(self, key_id: UUID) -> KeyView:
        """Revokes a key knowing only its id (the command line, run by the operator)."""
        found = self.core.read.key(str(key_id))
        if found is None:
            raise NotFound("No such API key")
        return self.revoke(UUID(found.account_id), key_id)

    def due(self, key_id: str) -> bool:
        """Whether a use of the key now would be recorded (cheap: no database)."""
        return self.usage.due(key_id, naive_utc(self.core.app.clock()))

    def used(self, key_id: str) -> None:
        """Records that the key was used now (at most once a minute per process)."""
        self.usage.used(key_id, naive_utc(self.core.app.clock()))
