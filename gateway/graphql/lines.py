"""An invoice's line as GraphQL shows it: in the detail (``Invoice.lineItems``) and in the
history's typed changes, which is why it lives apart from both."""

from decimal import Decimal

import strawberry

from gateway.graphql.viewed import filled
from usecases.views import LineView

field = strawberry.field


@strawberry.type(description="A line of an invoice, priced.")
class LineItem:
    description: str = field(description="What is billed.")
    quantity: Decimal = field(description="How many; more than 0.")
    unit_price: Decimal = field(description="The price of one, before tax.")
    amount: Decimal = field(description="Quantity × unitPrice, in the currency's minor units.")
    tax_rate: Decimal = field(description="Percent, 0 to 100, charged on amount − discount.")
    discount_rate: Decimal = field(description="Percent, 0 to 100, taken off amount.")
    discount: Decimal = field(description="Amount × discountRate / 100, in the currency's minor units.")

    @classmethod
    def of(cls, line: LineView) -> "LineItem":
        return filled(cls, line)
