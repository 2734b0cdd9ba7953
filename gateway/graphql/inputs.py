"""The schema's input types, turned into the use cases' own inputs: every rule and message
past GraphQL's type checks is the use cases', the same as through REST."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import strawberry
from strawberry.types.unset import UNSET
from strawberry.utils.str_converters import to_camel_case

from domain.errors import ValidationError
from domain.invoice import EDITABLE, TEXTS, Sending
from usecases import inputs

Day = date  # a field named "date" must not shadow the type in its own annotation
field = strawberry.field
T = TypeVar("T")

# What each field means, by attribute, for the inputs that share them.
CLIENT_TEXT = {
    "name": "The client's name, as invoices print it.",
    "email": "Where emailed invoices go; a valid address.",
    "address": "The postal address, printed on invoices.",
    "tax_id": "The client's tax number (VAT, NIF...), printed on invoices.",
    "phone": "A phone number.",
    "notes": "Notes for the account; not printed.",
}
# An invoice's optional texts (``domain.invoice.TEXTS``, declared once): each a field of both
# invoice inputs and of the Invoice type, described as the domain describes it.
INVOICE_TEXTS = {text.name: text.description for text in TEXTS}
CURRENCY_TEXT = "An ISO 4217 code (see Currency), in any case; the default USD."


@strawberry.input(description="A line to bill; its amount, discount and tax are computed.")
class LineItemInput:
    description: str = field(description="What is billed.")
    quantity: Decimal = field(description="How many; more than 0.")
    unit_price: Decimal = field(description="The price of one, before tax; 0 or more.")
    tax_rate: Decimal | None = field(default=None, description="Percent, 0 to 100; none is 0.")
    discount_rate: Decimal | None = field(default=None, description="Percent off the amount, 0 to 100; none is 0.")

    def use(self) -> inputs.LineInput:
        return inputs.LineInput(self.description, self.quantity, self.unit_price, self.tax_rate, self.discount_rate)


@strawberry.input(description="A new client.")
class ClientInput:
    name: str = field(description=CLIENT_TEXT["name"])
    email: str | None = field(default=None, description=CLIENT_TEXT["email"])
    address: str | None = field(default=None, description=CLIENT_TEXT["address"])
    tax_id: str | None = field(default=None, description=CLIENT_TEXT["tax_id"])
    phone: str | None = field(default=None, description=CLIENT_TEXT["phone"])
    notes: str | None = field(default=None, description=CLIENT_TEXT["notes"])

    def use(self) -> inputs.ClientFields:
        return inputs.ClientFields(_given(self, CLIENT))


@strawberry.input(description="Only the fields given change; null clears an optional one.")
class ClientUpdateInput:
    name: str | None = field(default=UNSET, description=CLIENT_TEXT["name"])
    email: str | None = field(default=UNSET, description=CLIENT_TEXT["email"])
    address: str | None = field(default=UNSET, description=CLIENT_TEXT["address"])
    tax_id: str | None = field(default=UNSET, description=CLIENT_TEXT["tax_id"])
    phone: str | None = field(default=UNSET, description=CLIENT_TEXT["phone"])
    notes: str | None = field(default=UNSET, description=CLIENT_TEXT["notes"])
    is_active: bool | None = field(default=UNSET, description="True reactivates a deleted client (plan limits apply).")

    def use(self) -> inputs.ClientFields:
        if self.is_active is None:
            raise ValidationError("Field 'isActive' must be true or false")
        active = None if self.is_active is UNSET else bool(self.is_active)
        return inputs.ClientFields(_given(self, CLIENT), active)


# attribute -> wire name (this door's rule: camelCase), for the fields the use cases take by wire name
CLIENT = {name: to_camel_case(name) for name in CLIENT_TEXT}
INVOICE = {name: to_camel_case(name) for name in EDITABLE}


def _given(source: object, names: dict[str, str]) -> dict[str, Any]:
    return {wire: getattr(source, name) for name, wire in names.items() if getattr(source, name) is not UNSET}


def _texts(default: Any) -> Callable[[type[T]], type[T]]:
    """Adds ``INVOICE_TEXTS`` to an input, last, each an optional string."""

    def add(cls: type[T]) -> type[T]:
        for name, about in INVOICE_TEXTS.items():
            cls.__annotations__[name] = str | None
            setattr(cls, name, field(default=default, description=about))
        return cls

    return add


@strawberry.input(description="A new invoice, created as a DRAFT.")
@_texts(default=None)
class InvoiceInput:
    client_id: strawberry.ID = field(description="The client billed: an active client of the account.")
    line_items: list[LineItemInput] = field(description="The lines; at least one.")
    invoice_number: str | None = field(
        default=None, description="Unique in the account; none: the account's next number (INV-0001...)."
    )
    currency: str | None = field(default=None, description=CURRENCY_TEXT)
    issue_date: date | None = field(default=None, description="The issue date; none: today.")
    due_date: date | None = field(default=None, description="When payment is due; on or after the issue date.")

    def use(self) -> inputs.InvoiceInput:
        lines = [line.use() for line in self.line_items]
        return inputs.InvoiceInput(
            **{**vars(self), "client_id": inputs.client_ref(str(self.client_id)), "line_items": lines}
        )


@strawberry.input(description="Only the fields given change (a DRAFT only); null clears notes or terms.")
@_texts(default=UNSET)
class InvoiceUpdateInput:
    client_id: strawberry.ID | None = field(default=UNSET, description="Another active client to bill.")
    invoice_number: str | None = field(default=UNSET, description="A new number, unique in the account.")
    currency: str | None = field(default=UNSET, description="An ISO 4217 code (see Currency); the lines are repriced.")
    issue_date: date | None = field(default=UNSET, description="The issue date.")
    due_date: date | None = field(default=UNSET, description="When payment is due; on or after the issue date.")
    line_items: list[LineItemInput] | None = field(default=UNSET, description="Every line, replacing the old ones.")

    def use(self) -> inputs.InvoiceChanges:
        given = _given(self, INVOICE)
        if "clientId" in given:
            given["clientId"] = inputs.client_ref(given["clientId"])
        if "lineItems" in given:
            if given["lineItems"] is None:
                raise ValidationError("Field 'lineItems' must be an array of line items")
            given["lineItems"] = [line.use() for line in given["lineItems"]]
        return inputs.InvoiceChanges(given)


@strawberry.input(description="How to send an invoice.")
class SendInvoiceInput:
    email: bool = field(default=False, description="Whether the workers email it (plans with email sending).")
    to: list[str] | None = field(default=None, description="Addresses instead of the client's (at most 20).")
    cc: list[str] | None = field(default=None, description="Addresses to copy (at most 20).")
    message: str | None = field(default=None, description="A message for the email's body.")

    def use(self) -> Sending:
        return inputs.sending(self.email, tuple(self.to or ()), tuple(self.cc or ()), self.message)


@strawberry.input(description="A payment received.")
class PaymentInput:
    amount: Decimal = field(description="More than 0, at most the balance due, in the currency's minor units.")
    date: Day | None = field(default=None, description="When it was paid; none: today.")
    method: str | None = field(default=None, description="How it was paid (bank transfer, card...).")
    reference: str | None = field(default=None, description="The payer's or bank's reference.")

    def use(self) -> inputs.PaymentInput:
        return inputs.PaymentInput(self.amount, self.date, self.method, self.reference)
