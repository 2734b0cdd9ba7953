"""The events a request recorded, found by the reference its seal carries.

A request sent with an ``Idempotency-Key`` acts for its claim's reference
(``domain.actors.for_request``), so every event it stored has
``_ledger.actor.request == reference``, committed with the event itself. Whether such a
request took effect, and what it did, is then read from the store alone: the events after
the position the claim noted, up to the store's end. The scan is paid once per request
whose process died with it in flight, over the events recorded since.
"""

from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from domain.application import CleverInvo
from domain.ledger import LedgerMapper, canonical

PAGE = 500


@dataclass(frozen=True)
class MarkedEvent:
    position: int
    event: DomainEventProtocol[UUID]

    @property
    def aggregate_id(self) -> UUID:
        return self.event.originator_id

    @property
    def version(self) -> int:
        return int(self.event.originator_version)

    @property
    def kind(self) -> str:
        """The event's class name, as ``Invoice.PaymentRecorded``."""
        return type(self.event).__qualname__

    def field(self, name: str) -> Any:
        return vars(self.event).get(name)


def marked_events(app: CleverInvo, reference: str, after: int) -> list[MarkedEvent]:
    """The events stored after position ``after`` whose seal carries ``reference``, in
    commit order."""
    # The stored state is canonical JSON (domain/ledger.py), so the member is these very
    # bytes; a match is then decoded and checked exactly, so a text field that happens to
    # hold them is no match.
    needle = canonical({"request": reference})[1:-1]
    mapper = cast(LedgerMapper, app.mapper)
    last = app.recorder.max_notification_id() or 0
    found: list[MarkedEvent] = []
    start = after
    while start < last:
        page = app.recorder.select_notifications(start, PAGE, stop=last, inclusive_of_start=False)
        if not page:
            break
        for notification in page:
            if needle not in notification.state:
                continue
            event, ledger = mapper.read(notification)
            actor = (ledger or {}).get("actor")
            if isinstance(actor, dict) and actor.get("request") == reference:
                found.append(MarkedEvent(notification.id, event))
        start = page[-1].id
    return found
