"""Account owners: the people who sign in to the dashboard.

An owner's existence is a fact of the ledger (``Account.add_owner`` records
``OwnerAdded`` with the email they sign in with); their password and sessions are not
(they live in ``storage.owners``, where they can be changed and erased). An email
signs in to one account only: ``OwnerEmail``, whose id is derived from the email, is
saved with the account in one atomic save, so two racing additions of one email conflict
(the uniqueness-by-id pattern of ``domain.quotas.InvoiceNumber``).
"""

from uuid import UUID

from eventsourcing.domain import event

from domain.client import is_email
from domain.errors import ValidationError
from domain.ids import derived_id
from domain.timeline import Stamped


def email_key(email: str) -> str:
    """One address however it is capitalised: Ana@Example.com and ana@example.com."""
    return email.strip().casefold()


def check_owner_email(email: str) -> str:
    address = email.strip()
    if not is_email(address):
        raise ValidationError.about("Field '{0}' must be a valid email address", "email")
    return address


class OwnerEmail(Stamped):
    """Holds one sign-in email for the owner who has it."""

    @staticmethod
    def create_id(email: str) -> UUID:
        return derived_id("owner-email", email_key(email))

    @event("OwnerEmailTaken")
    def __init__(self, email: str, owner_id: UUID, account_id: UUID) -> None:
        self.owner_id = owner_id
        self.account_id = account_id
