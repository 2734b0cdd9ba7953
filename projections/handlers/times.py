"""How the read model holds a time and an amount that nothing has reached yet."""

from datetime import UTC, datetime
from decimal import Decimal


def naive_utc(moment: datetime) -> datetime:
    """UTC without a zone, as the tables hold times."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def zero_like(amount: Decimal) -> Decimal:
    """Zero at the amount's scale: nothing paid of 5500.00 is 0.00."""
    return Decimal(0).quantize(amount)
