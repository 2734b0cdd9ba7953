"""The application layer: every use case, grouped by area. Every door (REST, GraphQL, the
dashboard, the share page, the command line) holds this one object and calls it; none
reaches past it into the store, the read model or the database."""

from datetime import date

from storage.key_usage import KeyUsage
from storage.owners import OwnerStore
from usecases.accounts import Accounts
from usecases.auditing import Auditing
from usecases.clients import Clients
from usecases.core import Core
from usecases.invoices import Invoices
from usecases.keys import Keys
from usecases.lifecycle import Lifecycle
from usecases.operations import Operations
from usecases.owners import Owners
from usecases.sharing import Sharing


class UseCases:
    """Built once per process by the composition root (``gateway.services``) from the parts
    it made: ``core`` (what every use case stands on) and the stores that are not built from
    events."""

    def __init__(self, core: Core, key_usage: KeyUsage, owners: OwnerStore) -> None:
        self.core = core  # the use cases' own: a door calls the groups below, never this
        self.clients = Clients(core)
        self.invoices = Invoices(core)
        self.lifecycle = Lifecycle(core, self.invoices)
        self.auditing = Auditing(core)
        self.sharing = Sharing(core)
        self.keys = Keys(core, key_usage)
        self.owners = Owners(core, owners)
        self.accounts = Accounts(core)
        self.operations = Operations(core)

    def today(self) -> date:
        """Today by the application's clock (a form's default issue date, say)."""
        return self.core.app.clock().date()
