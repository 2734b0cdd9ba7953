"""How events' custom types are stored: registered once, never pre-formatted in events."""

from datetime import date
from typing import Any

from eventsourcing.persistence import Transcoding

from domain.invoice import Payment
from domain.money import LineItem


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class LineItemAsDict(Transcoding):
    """Line numbers stay Decimals inside: the transcoder encodes them as strings."""

    type = LineItem
    name = "line_item"

    def encode(self, obj: LineItem) -> dict[str, Any]:
        return {
            "description": obj.description,
            "quantity": obj.quantity,
            "unit_price": obj.unit_price,
            "tax_rate": obj.tax_rate,
            "amount": obj.amount,
            "discount_rate": obj.discount_rate,
            "discount": obj.discount,
        }

    def decode(self, data: dict[str, Any]) -> LineItem:
        return LineItem(**data)  # lines recorded before discounts have none: the defaults


class PaymentAsDict(Transcoding):
    """A payment inside an invoice's snapshot; its values are transcoded in turn."""

    type = Payment
    name = "payment"

    def encode(self, obj: Payment) -> dict[str, Any]:
        return {
            "id": obj.id,
            "amount": obj.amount,
            "paid_on": obj.paid_on,
            "method": obj.method,
            "reference": obj.reference,
            "recorded_at": obj.recorded_at,
            "reversed_at": obj.reversed_at,
        }

    def decode(self, data: dict[str, Any]) -> Payment:
        return Payment(**data)
