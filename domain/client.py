"""The Client aggregate: someone the account invoices. Never removed, only deactivated."""

import re
from collections.abc import Mapping
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import ValidationError

# Field name -> most characters. Every field but ``name`` is optional and may be cleared.
CLIENT_FIELDS: dict[str, int] = {
    "name": 255,
    "email": 254,
    "address": 1000,
    "tax_id": 64,
    "phone": 64,
    "notes": 5000,
}
_EMAIL = re.compile(r"[^@\s\"(),:;<>\[\]\\]+@[^@\s\"(),:;<>\[\]\\]+\.[^@\s\"(),:;<>\[\]\\.]{2,}")
WIRE_NAMES = {"tax_id": "taxId"}


def is_email(text: str) -> bool:
    return len(text) <= CLIENT_FIELDS["email"] and _EMAIL.fullmatch(text) is not None


def _wire(field: str) -> str:
    return WIRE_NAMES.get(field, field)


def check_client_fields(values: Mapping[str, str | None], *, creating: bool) -> dict[str, str | None]:
    """Strips and checks client fields; an empty optional field becomes ``None``."""
    unknown = set(values) - set(CLIENT_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown field: {sorted(unknown)[0]}")
    if creating and values.get("name") is None:
        raise ValidationError("Missing required field: name")
    clean: dict[str, str | None] = {}
    for field, value in values.items():
        text = value.strip() if value is not None else None
        if not text:
            if field == "name":
                raise ValidationError("Field 'name' must not be empty")
            clean[field] = None
            continue
        if len(text) > CLIENT_FIELDS[field]:
            raise ValidationError(f"Field '{_wire(field)}' must be at most {CLIENT_FIELDS[field]} characters")
        if field == "email" and not _EMAIL.fullmatch(text):
            raise ValidationError("Field 'email' must be a valid email address")
        clean[field] = text
    return clean


class Client(Aggregate):
    @event("ClientCreated")
    def __init__(
        self,
        account_id: UUID,
        name: str,
        email: str | None,
        address: str | None,
        tax_id: str | None,
        phone: str | None,
        notes: str | None,
    ) -> None:
        self.account_id = account_id
        self.name = name
        self.email = email
        self.address = address
        self.tax_id = tax_id
        self.phone = phone
        self.notes = notes
        self.is_active = True

    def update(self, values: Mapping[str, str | None]) -> None:
        """Changes the given fields; records nothing when nothing changes."""
        clean = check_client_fields(values, creating=False)
        changes = {field: value for field, value in clean.items() if getattr(self, field) != value}
        if changes:
            self._updated(changes)

    @event("ClientUpdated")
    def _updated(self, changes: dict[str, str | None]) -> None:
        for field, value in changes.items():
            setattr(self, field, value)

    @event("ClientDeactivated")
    def deactivate(self) -> None:
        self.is_active = False

    @event("ClientReactivated")
    def reactivate(self) -> None:
        self.is_active = True
