"""The lists, a page at a time: by number (``page``), or after a cursor (``after``), whose
pages neither repeat nor skip a row while other requests write.

A page by number is the use case's own (``Clients.list``, ``Invoices.list``); a page after
a cursor is the same read with the cursor passed on. Both doors list through here, so a
cursor means the same through either. (Once those use cases pass ``start`` on themselves,
this module folds into them.)"""

from uuid import UUID

from projections.views import ClientView, InvoiceSummary, Page
from usecases.inputs import InvoiceQuery, ListQuery
from usecases.service import UseCases


class Pages:
    def __init__(self, usecases: UseCases) -> None:
        self.usecases = usecases

    def clients(self, account: UUID, query: ListQuery) -> Page[ClientView]:
        if query.after is None:
            return self.usecases.clients.list(account, query)
        q = query.checked()
        return self.usecases.core.read.clients(str(account), q.page, q.limit, q.search, start=q.start)

    def invoices(self, account: UUID, query: InvoiceQuery) -> Page[InvoiceSummary]:
        if query.after is None:
            return self.usecases.invoices.list(account, query)
        q = query.checked()
        read = self.usecases.core.read
        return read.invoices(str(account), q.page, q.limit, q.search, q.client_id, q.status, start=q.start)
