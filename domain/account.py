"""The Account aggregate: who owns clients and invoices, on which plan, with which keys."""

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import NotFound, ValidationError
from domain.plans import Plan

LOCALES = ("en", "es")


def check_account_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 255:
        raise ValidationError("Account name must be 1 to 255 characters")
    return name


def check_plan(plan: str) -> str:
    if plan not in {p.value for p in Plan}:
        raise ValidationError(f"Unknown plan: {plan}")
    return plan


def check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise ValidationError(f"Unsupported locale: {locale} (one of {', '.join(LOCALES)})")
    return locale


class Account(Aggregate):
    @event("AccountOpened")
    def __init__(self, name: str, plan: str, locale: str) -> None:
        self.name = name
        self.plan = plan
        self.locale = locale
        # key id (str) -> revoked? Plain JSON types, so a snapshot can hold them.
        self.keys: dict[str, bool] = {}

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
