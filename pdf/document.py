"""What an invoice PDF shows, gathered from the read model: no borb, no SQL."""

from dataclasses import dataclass

from projections.views import AccountView, ClientView, InvoiceDetail


@dataclass(frozen=True)
class InvoiceDocument:
    invoice: InvoiceDetail
    client: ClientView | None
    account: AccountView

    @property
    def title(self) -> str:
        return f"Invoice {self.invoice.invoice_number}"

    def seller_lines(self, tax_label: str) -> list[str]:
        account = self.account
        lines = [account.name]
        lines += [part for part in (account.address or "").splitlines() if part.strip()]
        lines += [value for value in (account.email, account.phone) if value]
        if account.tax_id:
            lines.append(f"{tax_label}: {account.tax_id}")
        return lines

    def client_lines(self, tax_label: str) -> list[str]:
        client = self.client
        lines = [self.invoice.client_name]
        if client is not None:
            lines += [part for part in (client.address or "").splitlines() if part.strip()]
            lines += [value for value in (client.email, client.phone) if value]
            if client.tax_id:
                lines.append(f"{tax_label}: {client.tax_id}")
        elif self.invoice.client_email:
            lines.append(self.invoice.client_email)
        return lines
