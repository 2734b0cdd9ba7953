"""The schema's input types, turned into the use cases' own inputs: every rule and message
past GraphQL's type checks is the use cases', the same as through REST."""

from datetime import date
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types.unset import UNSET

from domain.errors import ValidationError
from domain.invoice import EDITABLE, Sending
from usecases import inputs

Day = date  # a field named "date" must not shadow the type in its own annotation
field = strawberry.field

# What each field means, by attribute, for the inputs that share them.
CLIENT_TEXT = {
    "name": "The client's name, as invoices print it.",
    "email": "Where emailed invoices go; a valid address.",
    "address": "The postal address, printed on invoices.",
    "tax_id": "The client's tax number (VAT, NIF...), printed on invoices.",
    "phone": "A phone number.",
    "notes": "Notes for the account; not printed.",
}
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


# attribute -> wire name, for the fields the use cases take by wire name
CLIENT = {name: wire for wire, name in inputs.CLIENT_WIRE.items()}
INVOICE = EDITABLE


def _given(source: object, names: dict[str, str]) -> dict[str, Any]:
    return {wire: getattr(source, name) for name, wire in names.items() if getattr(source, name) is not UNSET}


@strawberry.input(description="A new invoice, created as a DRAFT.")
class InvoiceInput:
    client_id: strawberry.ID = field(description="The client billed: an active client of the account.")
    line_items: list[LineItemInput] = field(description="The lines; at least one.")
    invoice_number: str | None = field(
        default=None, description="Unique in the account; none: the account's next number (INV-0001...)."
    )
    currency: str | None = field(default=None, description=CURRENCY_TEXT)
    issue_date: date | None = field(default=None, description="The issue date; none: today.")
    due_date: date | None = field(default=None, description="When payment is due; on or after the issue date.")
    notes: str | None = field(default=None, description="Notes printed on the invoice.")
    terms: str | None = field(default=None, description="Payment terms printed on the invoice.")

    def use(self) -> inputs.InvoiceInput:
        return inputs.InvoiceInput(
            client_id=inputs.client_ref(str(self.client_id)),
            line_items=[line.use() for line in self.line_items],
            invoice_number=self.invoice_number,
            currency=self.currency,
            issue_date=self.issue_date,
            due_date=self.due_date,
            notes=self.notes,
            terms=self.terms,
        )


@strawberry.input(description="Only the fields given change (a DRAFT only); null clears notes or terms.")
class InvoiceUpdateInput:
    client_id: strawberry.ID | None = field(default=UNSET, description="Another active client to bill.")
    invoice_number: str | None = field(default=UNSET, description="A new number, unique in the account.")
    currency: str | None = field(default=UNSET, description="An ISO 4217 code (see Currency); the lines are repriced.")
    issue_date: date | None = field(default=UNSET, description="The issue date.")
    due_date: date | None = field(default=UNSET, description="When payment is due; on or after the issue date.")
    line_items: list[LineItemInput] | None = field(default=UNSET, description="Every line, replacing the old ones.")
    notes: str | None = field(default=UNSET, description="Notes printed on the invoice.")
    terms: str | None = field(default=UNSET, description="Payment terms printed on the invoice.")

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
