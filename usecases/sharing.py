"""The share link: the invoice behind a token, for whoever holds it (no key, no account)."""

import re
from dataclasses import dataclass
from uuid import UUID

from domain.actors import acting_as, system
from pdf.service import InvoicePdf
from projections.views import AccountView, InvoiceDetail
from usecases.core import Core

# What secrets.token_urlsafe makes (the share_token column holds 64): anything else names
# nothing, and is not sent to the database (PostgreSQL refuses a NUL in text outright).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Shared:
    invoice: InvoiceDetail
    seller: AccountView


class Sharing:
    def __init__(self, core: Core) -> None:
        self.core = core

    def open(self, token: str) -> Shared | None:
        """The invoice behind ``token``; its first opening records SENT -> VIEWED, by the
        system (the recipient has no key and no login). None for a token that names nothing."""
        read = self.core.read
        invoice = read.shared_invoice(token) if _TOKEN.fullmatch(token) else None
        if invoice is None:
            return None
        if invoice.viewed_at is None and invoice.status != "VOID":
            invoice_id = UUID(invoice.id)
            with acting_as(system("share link")):
                self.core.execute(lambda: self.core.app.record_view(invoice_id))
            invoice = read.invoice(invoice.account_id, invoice.id) or invoice
        seller = read.account(invoice.account_id)
        return None if seller is None else Shared(invoice, seller)

    def pdf(self, token: str) -> InvoicePdf | None:
        """The current PDF of the invoice behind ``token``; opening it records nothing."""
        invoice = self.core.read.shared_invoice(token) if _TOKEN.fullmatch(token) else None
        return None if invoice is None else self.core.pdfs.get(invoice.account_id, invoice.id)
