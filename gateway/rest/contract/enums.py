"""The closed sets of values the contract names: each declared once, here, and published
once as a named schema that every field and parameter holding it references (so a client
generated from the document gets one ``InvoiceStatus`` class, not one per field).

The values are the domain's own where it has them (``domain.lifecycle``,
``domain.currencies``); the others are the response Structs' literals, declared once in
``usecases.wire_values`` (GraphQL's enums read them too), so those Structs, the document
and the GraphQL schema read the same tuple.
"""

from dataclasses import dataclass
from typing import get_args

from domain.account import LOCALES
from domain.currencies import MINOR_UNITS
from domain.lifecycle import STATUSES
from domain.plans import Plan as Plans
from usecases.wire_values import ActorType as ActorType  # shared with GraphQL
from usecases.wire_values import EmailStatus as EmailStatus
from usecases.wire_values import ResourceType as ResourceType


@dataclass(frozen=True)
class NamedEnum:
    name: str
    values: tuple[str, ...]
    description: str

    def schema(self) -> dict[str, object]:
        return {"title": self.name, "description": self.description, "type": "string", "enum": list(self.values)}


NAMED_ENUMS: tuple[NamedEnum, ...] = (
    NamedEnum(
        "InvoiceStatus",
        STATUSES,
        "Where an invoice stands: DRAFT until sent; then it follows from its sends, views, payments, due date"
        " and voiding, never set directly.",
    ),
    NamedEnum(
        "Currency",
        tuple(sorted(MINOR_UNITS)),
        "An ISO 4217 code the service supports; its minor units decide an amount's decimals (2 for USD, 0 for"
        " JPY, 3 for KWD).",
    ),
    NamedEnum("EmailStatus", get_args(EmailStatus), "The last emailed send's delivery: queued, delivered or failed."),
    NamedEnum(
        "ActorType",
        get_args(ActorType),
        "Who made a change: an API key, the command line, the system (an invoice falling overdue), or a"
        " dashboard owner.",
    ),
    NamedEnum("ResourceType", get_args(ResourceType), "The kind of record an event belongs to."),
    NamedEnum("Plan", tuple(plan.value for plan in Plans), "An account's plan; it sets the account's limits."),
    NamedEnum("Locale", LOCALES, "The language of an account's invoices and emails."),
    NamedEnum("WriteSaved", ("true", "false", "unknown"), "What became of a write an outage interrupted."),
)
