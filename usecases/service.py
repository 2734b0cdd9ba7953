"""Every use case, grouped by area: what a door holds to serve a request."""

from usecases.auditing import Auditing
from usecases.clients import Clients
from usecases.core import Core
from usecases.invoices import Invoices
from usecases.lifecycle import Lifecycle
from usecases.sharing import Sharing


class UseCases:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.clients = Clients(core)
        self.invoices = Invoices(core)
        self.lifecycle = Lifecycle(core, self.invoices)
        self.auditing = Auditing(core)
        self.sharing = Sharing(core)
