"""The Client aggregate: someone the account invoices. Never removed, only deactivated."""

import re
import unicodedata
from collections.abc import Mapping
from uuid import UUID

from eventsourcing.domain import event

from domain.errors import ValidationError
from domain.timeline import Stamped

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


# Characters that draw nothing: controls, format characters (zero-width space and joiners,
# bidi controls, the BOM, tags), separators, and the default-ignorable or blank letters
# that are not in those categories (Hangul fillers, variation selectors, braille blank).
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp"}
_INVISIBLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0000, 0xE0FFF),
)


def _invisible(char: str) -> bool:
    point = ord(char)
    return unicodedata.category(char) in _INVISIBLE_CATEGORIES or any(
        low <= point <= high for low, high in _INVISIBLE_RANGES
    )


def has_visible_text(text: str) -> bool:
    """False for text that shows nothing: empty, or only invisible characters."""
    return not all(_invisible(char) for char in text)


def is_email(text: str) -> bool:
    return len(text) <= CLIENT_FIELDS["email"] and _EMAIL.fullmatch(text) is not None


def check_client_fields(values: Mapping[str, str | None], *, creating: bool) -> dict[str, str | None]:
    """Strips and checks client fields; an empty optional field becomes ``None``."""
    unknown = set(values) - set(CLIENT_FIELDS)
    if unknown:
        raise ValidationError.about("Unknown field: {0}", sorted(unknown)[0])
    if creating and values.get("name") is None:
        raise ValidationError.about("Missing required field: {0}", "name")
    clean: dict[str, str | None] = {}
    for field, value in values.items():
        text = value.strip() if value is not None else None
        if not text:
            if field == "name":
                raise ValidationError.about("Field '{0}' must not be empty", field)
            clean[field] = None
            continue
        if field == "name" and not has_visible_text(text):
            raise ValidationError.about("Field '{0}' must contain a visible character", field)
        if len(text) > CLIENT_FIELDS[field]:
            raise ValidationError.about(f"Field '{{0}}' must be at most {CLIENT_FIELDS[field]} characters", field)
        if field == "email" and not _EMAIL.fullmatch(text):
            raise ValidationError.about("Field '{0}' must be a valid email address", field)
        clean[field] = text
    return clean


class Client(Stamped):
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
