"""Clients: list, read, create, change, deactivate."""

import builtins
import logging
from uuid import UUID

from domain.client import Client
from domain.errors import NotFound
from domain.versions import Expected
from projections.client_archive import deactivated_clients
from projections.past import Past, client_view
from projections.views import ClientView, Page
from usecases.core import Core
from usecases.inputs import ClientFields, ListQuery

log = logging.getLogger("cleverinvo")


class Clients:
    def __init__(self, core: Core) -> None:
        self.core = core

    def list(self, account: UUID, query: ListQuery) -> Page[ClientView]:
        """A page by number, or after a cursor (``after``): one read either way, in both doors."""
        q = query.checked()
        return self.core.read.clients(str(account), q.page, q.limit, q.search, start=q.start)

    def deactivated(self, account: UUID, query: ListQuery) -> Page[ClientView]:
        """The deactivated clients (lists leave them out), most recently changed first."""
        checked = query.checked()
        return deactivated_clients(self.core.read.engine, str(account), checked.page, checked.limit, checked.search)

    def get(self, account: UUID, client_id: UUID) -> ClientView:
        found = self.core.read.client(str(account), str(client_id))
        if found is None:
            raise NotFound("Client not found")
        return found

    def many(self, account: UUID, client_ids: builtins.list[str]) -> dict[str, ClientView]:
        """The account's clients among ``client_ids``, by id, in one read (a page's relations);
        an id that is not one of them is left out."""
        return self.core.read.clients_in(str(account), client_ids)

    def at_version(self, account: UUID, client_id: UUID, version: int) -> ClientView | None:
        """The client exactly as its ``version`` left it, rebuilt from its events; None if
        the account has no such client or it never had that version."""
        client = Past(self.core.app).load(Client, client_id, version)
        if client is None or client.account_id != account:
            return None
        return client_view(client)

    def versioned(self, account: UUID, client_id: UUID) -> tuple[ClientView, int | None]:
        """The client with its version, for its ETag. The version is read from the store
        first, then the read model is brought up to it, then the client is read: what is
        shown is at that version or later, never earlier, so a tag can only be older than
        what it is sent with, and a write it guards is refused rather than let through.
        None when the read model cannot catch up (no tag is then given)."""
        version = self.core.app.version_of(client_id)
        try:
            self.core.projector.catch_up()
        except Exception:  # the read still answers; only its tag is left out
            log.exception("Read model did not catch up before a client's ETag")
            version = None
        return self.get(account, client_id), version

    def create(self, account: UUID, fields: ClientFields) -> ClientView:
        values = fields.domain_values()
        client_id = self.core.execute(lambda: self.core.app.create_client(account, values))
        return self.get(account, client_id)

    def update(self, account: UUID, client_id: UUID, fields: ClientFields, expected: Expected = None) -> ClientView:
        values = fields.domain_values()
        if fields.is_active is not None:
            values["is_active"] = fields.is_active
        self.core.execute(lambda: self.core.app.update_client(account, client_id, values, expected))
        return self.get(account, client_id)

    def delete(self, account: UUID, client_id: UUID, expected: Expected = None) -> None:
        """Soft delete: the client stays, inactive, for its invoices."""
        self.core.execute(lambda: self.core.app.deactivate_client(account, client_id, expected))
