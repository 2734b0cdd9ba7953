"""The lists, a page at a time: by number (``page``), or after a cursor (``after``), whose
pages neither repeat nor skip a row while other requests write.

The same reads as ``Clients.list`` and ``Invoices.list``, with the cursor passed on; both
doors list through here, so a cursor means the same through either."""

from uuid import UUID

from projections.views import ClientView, InvoiceSummary, Page
from usecases.core import Core
from usecases.inputs import InvoiceQuery, ListQuery


class Pages:
    def __init__(self, core: Core) -> None:
        self.core = core

    def clients(self, account: UUID, query: ListQuery) -> Page[ClientView]:
        q = query.checked()
        return self.core.read.clients(str(account), q.page, q.limit, q.search, start=q.start)

    def invoices(self, account: UUID, query: InvoiceQuery) -> Page[InvoiceSummary]:
        q = query.checked()
        return self.core.read.invoices(str(account), q.page, q.limit, q.search, q.client_id, q.status, start=q.start)
