"""What happened, as the schema shows it: a record's history entries (who changed what,
and when), the account's event feed and the ledger's digest. Filled from what the auditing
use cases tell (``usecases.auditing``), in the REST door's wire names and formats."""

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gateway.graphql.changes import FeedChanges, HistoryChanges, typed_changes
from gateway.graphql.enums import ActorType, HistoryEntryType, ResourceType

field = strawberry.field


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


TYPED_CHANGES = (
    "The same changes and previous values, typed by the event: one type per record kind and event type"
    " (InvoiceSentChanges...), told apart by __typename."
)


@strawberry.type(description="Who made a change.")
class Actor:
    type: ActorType = field(description="What kind of actor.")
    id: str | None = field(default=None, description="The key's or owner's id, or the operating-system user.")
    name: str | None = field(
        default=None, description="The key's label, the owner's email, the command, or the part of the service."
    )


@strawberry.type(description="One event of a record: what changed, when, and who changed it.")
class HistoryEntry:
    version: int = field(description="The record's events counted from 1: this is the record at that version.")
    type: HistoryEntryType = field(description="What the event did, as a business word.")
    occurred_at: datetime = field(description="When the event was recorded.")
    actor: Actor = field(description="Who made the change.")
    changes: JSON = field(
        description="Every field the event changed, in the detail's wire names and formats, and what the event"
        " itself carries (a payment, a send's recipients...)."
    )
    previous: JSON = field(description="The old values of the changed fields.")
    kind: strawberry.Private[str]  # the record's kind: invoice, client or account
    told: strawberry.Private[dict[str, Any]]  # the entry as the use case told it

    @strawberry.field(description=TYPED_CHANGES)
    def typed_changes(self) -> HistoryChanges:
        return typed_changes(self.kind, self.told["type"], self.told["changes"], self.told["previous"])

    @classmethod
    def of(cls, entry: dict[str, Any], resource: str) -> "HistoryEntry":
        """An entry of the history of a record of kind ``resource`` (invoice, client)."""
        actor = entry["actor"]
        return cls(
            version=int(entry["version"]),
            type=HistoryEntryType(entry["type"]),
            occurred_at=_moment(entry["occurredAt"]),
            actor=Actor(type=ActorType(actor["type"]), id=actor.get("id"), name=actor.get("name")),
            changes=_plain(entry["changes"]),
            previous=_plain(entry["previous"]),
            kind=resource,
            told=entry,
        )


def _plain(value: Any) -> Any:
    """JSON as the REST door writes it; exact decimals as strings, like every Decimal here."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


@strawberry.type(description="The record an event belongs to.")
class Resource:
    type: ResourceType = field(description="The kind of record.")
    id: strawberry.ID = field(description="The record's id (the account's own for an account event).")


@strawberry.type(description="An event of the account's feed: a history entry, where it stands, and its record.")
class AccountEvent(HistoryEntry):
    position: int = field(description="The event's commit position: it only grows. Pass it as `after` to resume.")
    resource: Resource = field(description="The record the event belongs to.")

    @strawberry.field(description=TYPED_CHANGES)
    def typed_changes(self) -> FeedChanges:  # of any kind, the account's too
        return typed_changes(self.kind, self.told["type"], self.told["changes"], self.told["previous"])

    @classmethod
    def of(cls, entry: dict[str, Any]) -> "AccountEvent":  # type: ignore[override]  # the kind is the entry's
        told = HistoryEntry.of(entry, entry["resource"]["type"])
        return cls(
            **vars(told),
            position=int(entry["position"]),
            resource=Resource(type=ResourceType(entry["resource"]["type"]), id=strawberry.ID(entry["resource"]["id"])),
        )


@strawberry.type(description="A page of the account's events, in commit order.")
class EventPage:
    data: list[AccountEvent] = field(description="The events after the position asked for, oldest first.")
    next: int = field(
        description="The `after` of the following page; a page that comes back empty keeps it, to resume later."
    )


@strawberry.type(description="The account's ledger digest: what an auditor keeps to prove later that nothing changed.")
class LedgerDigest:
    account_id: strawberry.ID = field(description="The account.")
    position: int = field(description="The commit position of the account's latest event.")
    digest: str = field(description="The running SHA-256 digest over the account's events: 64 lowercase hex digits.")
    at: datetime = field(description="When that event was recorded.")
