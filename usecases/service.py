"""Every use case, grouped by area: what a door holds to serve a request."""

from storage.key_usage import KeyUsage
from storage.owners import OwnerStore
from usecases.accounts import Accounts
from usecases.auditing import Auditing
from usecases.clients import Clients
from usecases.core import Core
from usecases.invoices import Invoices
from usecases.keys import Keys
from usecases.lifecycle import Lifecycle
from usecases.owners import Owners
from usecases.sharing import Sharing


class UseCases:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.clients = Clients(core)
        self.invoices = Invoices(core)
        self.lifecycle = Lifecycle(core, self.invoices)
        self.auditing = Auditing(core)
        self.sharing = Sharing(core)
        writer, reader = core.projector.writer, core.read.engine
        self.keys = Keys(core, KeyUsage(writer, reader))
        self.owners = Owners(core, OwnerStore(writer, reader))
        self.accounts = Accounts(core)
