"""Clients: list, read, create, change, deactivate."""

from uuid import UUID

from domain.errors import NotFound
from projections.client_archive import deactivated_clients
from projections.views import ClientView, Page
from usecases.core import Core
from usecases.inputs import ClientFields, ListQuery


class Clients:
    def __init__(self, core: Core) -> None:
        self.core = core

    def list(self, account: UUID, query: ListQuery) -> Page[ClientView]:
        checked = query.checked()
        return self.core.read.clients(str(account), checked.page, checked.limit, checked.search)

    def deactivated(self, account: UUID, query: ListQuery) -> Page[ClientView]:
        """The deactivated clients (lists leave them out), most recently changed first."""
        checked = query.checked()
        return deactivated_clients(self.core.read.engine, str(account), checked.page, checked.limit, checked.search)

    def get(self, account: UUID, client_id: UUID) -> ClientView:
        found = self.core.read.client(str(account), str(client_id))
        if found is None:
            raise NotFound("Client not found")
        return found

    def create(self, account: UUID, fields: ClientFields) -> ClientView:
        values = fields.domain_values()
        client_id = self.core.execute(lambda: self.core.app.create_client(account, values))
        return self.get(account, client_id)

    def update(self, account: UUID, client_id: UUID, fields: ClientFields) -> ClientView:
        values = fields.domain_values()
        if fields.is_active is not None:
            values["is_active"] = fields.is_active
        self.core.execute(lambda: self.core.app.update_client(account, client_id, values))
        return self.get(account, client_id)

    def delete(self, account: UUID, client_id: UUID) -> None:
        """Soft delete: the client stays, inactive, for its invoices."""
        self.core.execute(lambda: self.core.app.deactivate_client(account, client_id))
