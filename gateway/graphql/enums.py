"""The schema's enums: every closed set of values a field holds, each value described.

The values are the wire strings the REST door writes (``queued``, ``apiKey``, ``USD``), so
a GraphQL answer reads exactly as it did when these fields were ``String``; only the schema
now says which strings there can be. The sets come from where the service defines them
(the domain's statuses and currencies, the contract's literals, the history's words), so a
new value cannot reach an answer without reaching the schema.
"""

from enum import Enum
from typing import TYPE_CHECKING, get_args

import strawberry

from domain.account import LOCALES
from domain.currencies import MINOR_UNITS
from domain.lifecycle import STATUSES
from domain.plans import Plan as Plans
from usecases.history import KINDS
from usecases.wire_values import ActorType as ActorTypes
from usecases.wire_values import EmailStatus as EmailStatuses
from usecases.wire_values import ResourceType as ResourceTypes

v = strawberry.enum_value


@strawberry.enum(
    description="Where an invoice stands. DRAFT until sent; after that it follows from what was recorded (sends,"
    " views, payments, the due date, voiding), never set directly."
)
class InvoiceStatus(Enum):
    DRAFT = v("DRAFT", description="Created, not yet sent: the only status in which it can be changed or deleted.")
    SENT = v("SENT", description="Sent to the client (by the API, the dashboard, or by email).")
    VIEWED = v("VIEWED", description="Sent, and its share link was opened.")
    PAID = v("PAID", description="Sent, and nothing is due any more.")
    PARTIALLY_PAID = v("PARTIALLY_PAID", description="Sent and part paid; the rest not yet due.")
    OVERDUE = v("OVERDUE", description="Sent, with a balance still due after its due date.")
    VOID = v("VOID", description="Voided: kept on record; nothing more is due or accepted.")


@strawberry.enum(description="How the last emailed send of an invoice is doing.")
class EmailStatus(Enum):
    queued = v("queued", description="Waiting for the workers to deliver it (or to retry).")
    delivered = v("delivered", description="Accepted by the mail server.")
    failed = v("failed", description="Refused or undeliverable (see emailError); retried with backoff a few times.")


@strawberry.enum(description="Who made a change.")
class ActorType(Enum):
    apiKey = v("apiKey", description="An API key: id and name are the key's id and label (never the key).")  # noqa: N815
    cli = v("cli", description="The command line: id is the operating-system user, name the command.")
    system = v("system", description="The service itself: name says which part (overdue sweep, email delivery...).")
    owner = v("owner", description="A dashboard owner: id is theirs, name their email address.")


@strawberry.enum(description="The kind of record an event belongs to.")
class ResourceType(Enum):
    invoice = v("invoice", description="An invoice.")
    client = v("client", description="A client.")
    account = v("account", description="The account itself: its details, plan, keys and owners.")


@strawberry.enum(description="What an event did, as a business word.")
class HistoryEntryType(Enum):
    created = v("created", description="The record was created; changes lists every field.")
    updated = v("updated", description="Fields of the record were changed.")
    deleted = v("deleted", description="A draft invoice was deleted (its history stays).")
    sent = v("sent", description="The invoice was sent, or sent again.")
    viewed = v("viewed", description="The invoice's share link was opened for the first time.")
    paymentRecorded = v("paymentRecorded", description="A payment was recorded.")  # noqa: N815
    paymentReversed = v("paymentReversed", description="A mistaken payment was reversed; it stays on record.")  # noqa: N815
    overdue = v("overdue", description="The invoice fell overdue.")
    voided = v("voided", description="The invoice was voided.")
    emailDelivered = v("emailDelivered", description="An emailed send was accepted by the mail server.")  # noqa: N815
    emailFailed = v("emailFailed", description="An emailed send failed; it may be retried.")  # noqa: N815
    deactivated = v("deactivated", description="The client was deleted (a soft delete).")
    reactivated = v("reactivated", description="The client was made active again.")
    planChanged = v("planChanged", description="The account's plan changed.")  # noqa: N815
    apiKeyIssued = v("apiKeyIssued", description="An API key was issued.")  # noqa: N815
    apiKeyRevoked = v("apiKeyRevoked", description="An API key was revoked.")  # noqa: N815
    ownerAdded = v("ownerAdded", description="Someone was let in to the dashboard as an owner.")  # noqa: N815


@strawberry.enum(description="An account's plan; it sets the account's limits.")
class Plan(Enum):
    free = v("free", description="Free: 5 active clients, 20 invoices a month, no email sending.")
    pro = v("pro", description="Pro: 500 active clients, 1,000 invoices a month, email sending.")
    business = v("business", description="Business: no limit on clients or invoices, email sending.")


@strawberry.enum(description="The language of an account's invoices, emails and share pages.")
class Locale(Enum):
    en = v("en", description="English.")
    es = v("es", description="Spanish.")


# The enums whose values are the REST door's wire strings, as they were when these fields were
# String: lower camel case, not the ALL_CAPS graphql-schema-linter's enum-values-all-caps asks for.
# Renaming them would change every answer that carries one (we add, we never break), so that one
# rule is ignored for these enums, and only these, in .graphql-schema-linterrc.yml (the linter's
# documented `ignore` list; a test keeps the two lists the same). A new enum is ALL_CAPS.
WIRE_STRING_ENUMS: tuple[type[Enum], ...] = (ActorType, EmailStatus, HistoryEntryType, Locale, Plan, ResourceType)


def _values(enum: type[Enum]) -> list[str]:
    return sorted(str(member.value) for member in enum)


# The sets are the service's own: a value added there and not here fails at import.
assert _values(InvoiceStatus) == sorted(STATUSES), "the domain's statuses changed"
assert _values(EmailStatus) == sorted(get_args(EmailStatuses)), "the contract's email statuses changed"
assert _values(ActorType) == sorted(get_args(ActorTypes)), "the contract's actor types changed"
assert _values(ResourceType) == sorted(get_args(ResourceTypes)), "the contract's resource types changed"
assert _values(Plan) == sorted(plan.value for plan in Plans), "the plans changed"
assert _values(Locale) == sorted(LOCALES), "the locales changed"
assert _values(HistoryEntryType) == sorted({word for kind in KINDS for word, _ in kind.types.values()}), "history"

_CURRENCY_TEXT = "An ISO 4217 currency code the service supports; its minor unit decides the decimals of every amount."
if TYPE_CHECKING:  # built from the domain's table below; for a type checker, any enum

    class Currency(Enum):
        USD = "USD"

else:
    Currency = strawberry.enum(
        Enum(
            "Currency",
            {
                code: v(code, description=f"ISO 4217 {code}: amounts in {places} decimal places.")
                for code, places in sorted(MINOR_UNITS.items())
            },
        ),
        description=_CURRENCY_TEXT,
    )
