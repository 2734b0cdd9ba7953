"""What an invoice PDF shows, gathered from the read model: no borb, no SQL."""

from dataclasses import dataclass

from pdf.tax_labels import label_for
from projections.views import AccountView, ClientView, InvoiceDetail


@dataclass(frozen=True)
class InvoiceDocument:
    invoice: InvoiceDetail
    client: ClientView | None
    account: AccountView
    share_url: str | None = None  # where the client can view it online, once it was sent

    @property
    def title(self) -> str:
        return f"Invoice {self.invoice.invoice_number}"

    def seller_tax_label(self, language: str) -> str:
        """The seller's tax id labelled by the seller's country (Spain's NIF, the UK's VAT...)."""
        return label_for(self.account.tax_id, self.account.address, language)

    def client_tax_label(self, language: str) -> str:
        """The client's tax id labelled by the client's country, not the seller's."""
        client = self.client
        return label_for(client.tax_id, client.address, language) if client else label_for(None, None, language)

    def seller_lines(self, tax_label: str) -> list[str]:
        account = self.account
        return [account.name, *_contact(account.address, account.email, account.phone, account.tax_id, tax_label)]

    def client_lines(self, tax_label: str) -> list[str]:
        client = self.client
        if client is None:  # only what the invoice row carries
            return [self.invoice.client_name, *([self.invoice.client_email] if self.invoice.client_email else [])]
        return [
            self.invoice.client_name,
            *_contact(client.address, client.email, client.phone, client.tax_id, tax_label),
        ]


def _contact(
    address: str | None, email: str | None, phone: str | None, tax_id: str | None, tax_label: str
) -> list[str]:
    """The lines of a seller or client block under its name."""
    lines = [part for part in (address or "").splitlines() if part.strip()]
    lines += [value for value in (email, phone) if value]
    if tax_id:
        lines.append(f"{tax_label}: {tax_id}")
    return lines
