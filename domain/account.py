"""The Account aggregate: who owns clients and invoices, on which plan, with which keys."""

from collections.abc import Mapping
from uuid import UUID

from eventsourcing.domain import event

from domain.client import check_client_fields, has_visible_text
from domain.errors import Conflict, NotFound, ValidationError
from domain.plans import Plan
from domain.timeline import Stamped

LOCALES = ("en", "es")
# What an invoice shows of its seller besides the name; checked like a client's fields.
DETAILS = ("address", "email", "tax_id", "phone")


def check_account_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 255:
        raise ValidationError("Account name must be 1 to 255 characters")
    if not has_visible_text(name):
        raise ValidationError("Account name must contain a visible character")
    return name


def check_plan(plan: str) -> str:
    if plan not in {p.value for p in Plan}:
        raise ValidationError(f"Unknown plan: {plan}")
    return plan


def check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise ValidationError(f"Unsupported locale: {locale} (one of {', '.join(LOCALES)})")
    return locale


class Account(Stamped):
    @event("AccountOpened")
    def __init__(self, name: str, plan: str, locale: str) -> None:
        self.name = name
        self.plan = plan
        self.locale = locale
        # key id (str) -> revoked? Plain JSON types, so a snapshot can hold them.
        self.keys: dict[str, bool] = {}
        self.address: str | None = None
        self.email: str | None = None
        self.tax_id: str | None = None
        self.phone: str | None = None
        # owner id (str) -> the email they sign in with (``domain.owners``).
        self.owners: dict[str, str] = {}

    def update(self, values: Mapping[str, str | None]) -> None:
        """Changes name, locale or seller details; records nothing when nothing changes."""
        unknown = set(values) - {"name", "locale", *DETAILS}
        if unknown:
            raise ValidationError(f"Unknown account field: {sorted(unknown)[0]}")
        clean: dict[str, str | None] = {}
        if "name" in values:
            clean["name"] = check_account_name(values["name"] or "")
        if "locale" in values:
            clean["locale"] = check_locale(values["locale"] or "")
        clean.update(check_client_fields({k: v for k, v in values.items() if k in DETAILS}, creating=False))
        changes = {field: value for field, value in clean.items() if getattr(self, field) != value}
        if changes:
            self._updated(changes)

    @event("AccountUpdated")
    def _updated(self, changes: dict[str, str | None]) -> None:
        for field, value in changes.items():
            setattr(self, field, value)

    def change_plan(self, plan: str) -> None:
        if check_plan(plan) != self.plan:
            self._plan_changed(plan)

    @event("PlanChanged")
    def _plan_changed(self, plan: str) -> None:
        self.plan = plan

    @event("ApiKeyIssued")
    def issue_key(self, key_id: UUID, key_hash: str, name: str, prefix: str) -> None:
        self.keys[str(key_id)] = False

    def revoke_key(self, key_id: UUID) -> None:
        if str(key_id) not in self.keys:
            raise NotFound("No such API key")
        if not self.keys[str(key_id)]:
            self._key_revoked(key_id)

    @event("ApiKeyRevoked")
    def _key_revoked(self, key_id: UUID) -> None:
        self.keys[str(key_id)] = True

    def add_owner(self, owner_id: UUID, email: str) -> None:
        """Someone who signs in to the dashboard and acts for the account."""
        if str(owner_id) in self.owners:
            raise Conflict("This owner was already added")
        self._owner_added(owner_id, email)

    @event("OwnerAdded")
    def _owner_added(self, owner_id: UUID, email: str) -> None:
        self.owners[str(owner_id)] = email
