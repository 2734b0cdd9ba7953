"""Accounts: opening one (the command line, a first start's default account), the list of
them, their own settings (seller details and locale, the plan) and its usage, the ledger's
export."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from database.engines import exclusive
from domain.errors import Conflict, DomainError, NotFound, ValidationError
from domain.owners import check_owner_email
from domain.plans import Plan, limits_of
from domain.quotas import ClientQuota, InvoiceQuota
from projections.ledger_walk import Unexportable, export_lines
from projections.views import AccountView
from usecases.core import Core
from usecases.inputs import text

# Account fields: wire name -> domain name.
ACCOUNT_WIRE = {
    "name": "name",
    "locale": "locale",
    "address": "address",
    "email": "email",
    "taxId": "tax_id",
    "phone": "phone",
}


@dataclass(frozen=True)
class AccountFields:
    """Account fields given, by wire name (only those sent)."""

    values: Mapping[str, str | None] = field(default_factory=dict)

    def domain_values(self) -> dict[str, str | None]:
        unknown = set(self.values) - set(ACCOUNT_WIRE)
        if unknown:
            raise ValidationError(f"Unknown field: {sorted(unknown)[0]}")
        return {ACCOUNT_WIRE[wire]: text(value, wire) for wire, value in self.values.items()}


@dataclass(frozen=True)
class Usage:
    """The plan, and how much of it the account uses."""

    plan: str
    active_clients: int
    client_limit: int | None  # None: unlimited
    month: str  # YYYY-MM, UTC: the month the invoice count is of
    invoices_this_month: int
    invoice_limit: int | None
    email_sending: bool


@dataclass(frozen=True)
class DefaultAccount:
    """What a first start opened: the account and its API key (shown this once)."""

    account_id: UUID
    key: str


class Accounts:
    def __init__(self, core: Core) -> None:
        self.core = core

    def listing(self) -> list[AccountView]:
        return self.core.read.accounts()

    def open(
        self,
        name: str,
        plan: str,
        locale: str,
        details: Mapping[str, str | None],
        owner_email: str | None = None,
    ) -> UUID:
        """Opens an account (the command line). ``owner_email``: checked, and refused when it
        signs in already, before the account is opened (``Owners.invite`` then adds them)."""
        if owner_email is not None:
            owner = check_owner_email(text(owner_email, "email") or "")
            if self.core.app.owner_by_email(owner) is not None:
                raise DomainError("This email already signs in to an account")
        app = self.core.app
        return self.core.execute(lambda: app.open_account(name, plan, locale, details))

    def open_default(self) -> DefaultAccount | None:
        """A first start's account (plan pro) and its API key; None when there is an account
        already. Hosts starting at once on a new database open one: they take turns."""
        core = self.core
        with exclusive(core.projector.writer, "default-account"):
            core.projector.catch_up()  # another host may have opened it a moment ago
            if core.read.accounts():
                return None
            account_id = core.execute(lambda: core.app.open_account("Default account", Plan.PRO.value))
            _, key = core.execute(lambda: core.app.issue_api_key(account_id, "default"))
        return DefaultAccount(account_id, key)

    def has_owners(self, account: UUID) -> bool:
        return bool(self.core.app.get_account(account).owners)

    def amend(self, account: UUID, values: Mapping[str, str | None], plan: str | None = None) -> None:
        """Changes the account's name, locale or seller details (domain names, as the
        command line gives them; '' clears one), then its plan when one is given."""
        app = self.core.app
        self.core.execute(lambda: app.update_account(account, values))
        if plan:
            self.core.execute(lambda: app.change_plan(account, plan))

    def find(self, account: UUID) -> AccountView | None:
        """The account, or None when there is none (what ``get`` refuses as not found)."""
        return self.core.read.account(str(account))

    def get(self, account: UUID) -> AccountView:
        found = self.find(account)
        if found is None:
            raise NotFound("Account not found")
        return found

    def update(self, account: UUID, fields: AccountFields) -> AccountView:
        values = fields.domain_values()
        self.core.execute(lambda: self.core.app.update_account(account, values))
        return self.get(account)

    def usage(self, account: UUID) -> Usage:
        """Counted by the quota aggregates that enforce the limits, so exactly what they allow."""
        app = self.core.app
        plan = app.get_account(account).plan
        limits = limits_of(plan)
        month = app.clock().strftime("%Y-%m")
        try:
            clients: ClientQuota = app.repository.get(ClientQuota.create_id(account))
            active = clients.active
        except AggregateNotFoundError:
            active = 0
        try:
            invoices: InvoiceQuota = app.repository.get(InvoiceQuota.create_id(account, month))
            created = invoices.created
        except AggregateNotFoundError:
            created = 0
        return Usage(
            plan, active, limits.active_clients, month, created, limits.invoices_per_month, limits.email_sending
        )

    def export(self, account: UUID) -> list[str]:
        """The account's events with their seals and digests, one JSON object a line, as
        ``cleverinvo ledger export`` writes them; refused whole if any cannot be read."""
        app = self.core.app
        app.get_account(account)
        try:
            return list(export_lines(app.recorder, app.mapper, str(account)))
        except Unexportable as exc:
            raise Conflict(f"{exc}; `cleverinvo ledger verify` names what is broken") from None
