"""Values as both doors take and give them, declared once below REST and GraphQL: the
closed sets of wire strings that are not the domain's own (an email's delivery, who acted,
what kind of record), and a timestamp read from its ISO 8601 text."""

from datetime import UTC, datetime
from typing import Literal

EmailStatus = Literal["queued", "delivered", "failed"]
ActorType = Literal["apiKey", "cli", "system", "owner"]
ResourceType = Literal["invoice", "client", "account"]


def timestamp_problem(name: str) -> str:
    """What a door says of a parameter ``name`` that is not a timestamp."""
    return f"Parameter '{name}' must be an ISO 8601 timestamp such as 2026-03-31T23:59:59Z"


def moment(raw: str) -> datetime | None:
    """An ISO 8601 timestamp with a time, in UTC (no offset means UTC); None when ``raw``
    is not one (a bare date too: which moment of that day?)."""
    if "T" not in raw.upper() or len(raw) > 64:
        return None
    try:
        found = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    if found.tzinfo is None:  # no offset: UTC, like every time the API returns
        found = found.replace(tzinfo=UTC)
    try:
        return found.astimezone(UTC)
    except OverflowError:  # hours from the ends of the calendar: before or after everything
        return (datetime.min if found.year == datetime.min.year else datetime.max).replace(tzinfo=UTC)
