"""Invoices: list, read (now or as they were), create, change, delete, their PDFs."""

import builtins
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.errors import NotFound, ValidationError
from domain.versions import Expected
from pdf.document import InvoiceDocument
from pdf.service import InvoicePdf
from projections.past import Past
from projections.views import AccountView, ClientView, InvoiceDetail, InvoiceSummary, Page, PaymentView
from usecases.core import Core
from usecases.inputs import InvoiceChanges, InvoiceInput, InvoiceQuery
from usecases.wire import timestamp


@dataclass(frozen=True)
class Moment:
    """Which state of an invoice: now (neither), a version, or as of a time."""

    version: int | None = None
    as_of: datetime | None = None

    def checked(self) -> "Moment":
        if self.version is not None and self.as_of is not None:
            raise ValidationError("Give parameter 'version' or 'asOf', not both")
        if self.version is not None and self.version < 1:
            raise ValidationError("Parameter 'version' must be an integer >= 1")
        return self

    @property
    def past(self) -> bool:
        return self.version is not None or self.as_of is not None

    def not_then(self) -> NotFound:
        if self.version is not None:
            return NotFound(f"Invoice not found at version {self.version}")
        return NotFound(f"Invoice not found as of {timestamp(self.as_of)}")


NOW = Moment()


@dataclass(frozen=True)
class Listing:
    """A page of invoices with what a page of GraphQL shows beside its rows, read at once:
    each row a detail with its lines when asked, and the rows' clients when asked (by id;
    empty when not asked)."""

    page: Page[InvoiceSummary]
    clients: dict[str, ClientView]


@dataclass(frozen=True)
class InvoiceRead:
    """An invoice's detail with its client and seller (what its PDF shows of them)."""

    invoice: InvoiceDetail
    client: ClientView | None
    account: AccountView | None
    payments: list[PaymentView] | None = None  # a past version's, as they stood then (None: read them now)


class Invoices:
    def __init__(self, core: Core) -> None:
        self.core = core

    def list(self, account: UUID, query: InvoiceQuery) -> Page[InvoiceSummary]:
        """A page by number, or after a cursor (``after``): one read either way, in both doors."""
        q = query.checked()
        return self.core.read.invoices(str(account), q.page, q.limit, q.search, q.client_id, q.status, start=q.start)

    def listing(self, account: UUID, query: InvoiceQuery, *, details: bool, clients: bool) -> Listing:
        """The page :meth:`list` reads, with its rows' details (lines included) and clients,
        in one call and one snapshot: a page and its relations in one read, not one read
        per relation."""
        q = query.checked()
        page, found = self.core.read.invoices_with(
            str(account),
            q.page,
            q.limit,
            q.search,
            q.client_id,
            q.status,
            start=q.start,
            detailed=details,
            with_clients=clients,
        )
        return Listing(page, found)

    def detail(self, account: UUID, invoice_id: UUID) -> InvoiceDetail:
        found = self.core.read.invoice(str(account), str(invoice_id))
        if found is None:
            raise NotFound("Invoice not found")
        return found

    def details(self, account: UUID, invoice_ids: builtins.list[str]) -> dict[str, InvoiceDetail]:
        """The account's invoices among ``invoice_ids``, by id, with their lines, in a fixed
        number of reads (a page's relations); an id that is not one of them is left out."""
        return self.core.read.invoices_in(str(account), invoice_ids)

    def at_version(self, account: UUID, invoice_id: UUID, version: int) -> InvoiceRead | None:
        """The invoice exactly as its ``version`` left it, with its client, seller and
        payments as they stood then, rebuilt from the events; None if the account has no
        such invoice, it never had that version, or it was deleted then."""
        then = Past(self.core.app).invoice(account, invoice_id, version=version)
        return None if then is None else InvoiceRead(then.invoice, then.client, then.account, then.payments)

    def get(self, account: UUID, invoice_id: UUID, moment: Moment = NOW) -> InvoiceRead:
        """The detail now (from the read model) or at a past moment (rebuilt from events)."""
        if moment.checked().past:
            then = Past(self.core.app).invoice(account, invoice_id, version=moment.version, moment=moment.as_of)
            if then is None:
                raise moment.not_then()
            return InvoiceRead(then.invoice, then.client, then.account, then.payments)
        found = self.core.read.invoice_read(str(account), str(invoice_id))
        if found is None:
            raise NotFound("Invoice not found")
        return InvoiceRead(*found)

    def create(self, account: UUID, given: InvoiceInput) -> InvoiceDetail:
        draft = given.draft()
        invoice_id = self.core.execute(lambda: self.core.app.create_invoice(account, draft))
        return self.detail(account, invoice_id)

    def update(
        self, account: UUID, invoice_id: UUID, changes: InvoiceChanges, expected: Expected = None
    ) -> InvoiceDetail:
        values = changes.domain_values()
        self.core.execute(lambda: self.core.app.update_invoice(account, invoice_id, values, expected))
        return self.detail(account, invoice_id)

    def delete(self, account: UUID, invoice_id: UUID, expected: Expected = None) -> None:
        """For good, with its PDF; its history stays in the ledger."""
        self.core.execute(lambda: self.core.app.delete_invoice(account, invoice_id, expected))
        self.core.pdfs.discard(str(invoice_id))

    # --- PDFs ---------------------------------------------------------------------------

    def pdf(self, account: UUID, invoice_id: UUID) -> InvoicePdf:
        """The current PDF: from the cache, or rendered once (never twice at a time)."""
        found = self.core.pdfs.get(str(account), str(invoice_id))
        if found is None:
            raise NotFound("Invoice not found")
        return found

    def past_document(self, account: UUID, invoice_id: UUID, moment: Moment) -> InvoiceDocument:
        """What a past version's PDF shows; its ETag is known before rendering it."""
        then = self.get(account, invoice_id, moment)
        if then.account is None:
            raise moment.not_then()
        return self.core.pdfs.document(then.invoice, then.client, then.account)

    def render_past(self, document: InvoiceDocument) -> InvoicePdf:
        """A past version's PDF: rendered on request, not cached."""
        return self.core.pdfs.render_past(document)
