"""Plans and their limits (API.md, "Plans")."""

from dataclasses import dataclass
from enum import StrEnum


class Plan(StrEnum):
    FREE = "free"
    PRO = "pro"
    BUSINESS = "business"


@dataclass(frozen=True)
class PlanLimits:
    active_clients: int | None  # None: unlimited
    invoices_per_month: int | None
    email_sending: bool


LIMITS: dict[Plan, PlanLimits] = {
    Plan.FREE: PlanLimits(active_clients=5, invoices_per_month=20, email_sending=False),
    Plan.PRO: PlanLimits(active_clients=500, invoices_per_month=1000, email_sending=True),
    Plan.BUSINESS: PlanLimits(active_clients=None, invoices_per_month=None, email_sending=True),
}


def limits_of(plan: str) -> PlanLimits:
    return LIMITS[Plan(plan)]
