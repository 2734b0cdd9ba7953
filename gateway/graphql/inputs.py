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


@strawberry.input
class LineItemInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal | None = None
    discount_rate: Decimal | None = None

    def use(self) -> inputs.LineInput:
        return inputs.LineInput(self.description, self.quantity, self.unit_price, self.tax_rate, self.discount_rate)


@strawberry.input
class ClientInput:
    name: str
    email: str | None = None
    address: str | None = None
    tax_id: str | None = None
    phone: str | None = None
    notes: str | None = None

    def use(self) -> inputs.ClientFields:
        return inputs.ClientFields(_given(self, CLIENT))


@strawberry.input(description="Only the fields given change; null clears an optional one.")
class ClientUpdateInput:
    name: str | None = UNSET
    email: str | None = UNSET
    address: str | None = UNSET
    tax_id: str | None = UNSET
    phone: str | None = UNSET
    notes: str | None = UNSET
    is_active: bool | None = UNSET

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


@strawberry.input
class InvoiceInput:
    client_id: strawberry.ID
    line_items: list[LineItemInput]
    invoice_number: str | None = None
    currency: str | None = None
    issue_date: date | None = None
    due_date: date | None = None
    notes: str | None = None
    terms: str | None = None

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
    client_id: strawberry.ID | None = UNSET
    invoice_number: str | None = UNSET
    currency: str | None = UNSET
    issue_date: date | None = UNSET
    due_date: date | None = UNSET
    line_items: list[LineItemInput] | None = UNSET
    notes: str | None = UNSET
    terms: str | None = UNSET

    def use(self) -> inputs.InvoiceChanges:
        given = _given(self, INVOICE)
        if "clientId" in given:
            given["clientId"] = inputs.client_ref(given["clientId"])
        if "lineItems" in given:
            if given["lineItems"] is None:
                raise ValidationError("Field 'lineItems' must be an array of line items")
            given["lineItems"] = [line.use() for line in given["lineItems"]]
        return inputs.InvoiceChanges(given)


@strawberry.input
class SendInvoiceInput:
    email: bool = False
    to: list[str] | None = None
    cc: list[str] | None = None
    message: str | None = None

    def use(self) -> Sending:
        return inputs.sending(self.email, tuple(self.to or ()), tuple(self.cc or ()), self.message)


@strawberry.input
class PaymentInput:
    amount: Decimal
    date: Day | None = None
    method: str | None = None
    reference: str | None = None

    def use(self) -> inputs.PaymentInput:
        return inputs.PaymentInput(self.amount, self.date, self.method, self.reference)
