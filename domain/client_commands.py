"""The commands on clients: create, change, deactivate and reactivate (plan limits apply)."""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from domain.client import Client, check_client_fields
from domain.plans import limits_of
from domain.quotas import ClientQuota
from domain.saving import Saving
from domain.versions import Expected, expect


class ClientCommands(Saving):
    # --- clients -----------------------------------------------------------------

    def create_client(self, account_id: UUID, values: Mapping[str, str | None]) -> UUID:
        clean = check_client_fields(values, creating=True)

        def command() -> UUID:
            limit = limits_of(self.get_account(account_id).plan).active_clients
            quota = self._load(ClientQuota, ClientQuota.create_id(account_id))
            client = Client(
                account_id=account_id,
                name=str(clean["name"]),
                email=clean.get("email"),
                address=clean.get("address"),
                tax_id=clean.get("tax_id"),
                phone=clean.get("phone"),
                notes=clean.get("notes"),
            )
            quota.take(client.id, limit)
            self.save(client, quota)
            return client.id

        return self._retrying(command, account_id)

    def update_client(
        self, account_id: UUID, client_id: UUID, values: Mapping[str, Any], expected: Expected = None
    ) -> int:
        """Changes client fields; ``is_active`` in ``values`` deactivates or reactivates.
        Refused unless the client is at an ``expected`` version; returns its new version."""
        fields = {name: value for name, value in values.items() if name != "is_active"}
        check_client_fields(fields, creating=False)

        def command() -> int:
            client = self.get_client(account_id, client_id)
            expect(client, expected, "Client")
            client.update(fields)
            quota: ClientQuota | None = None
            if "is_active" in values and values["is_active"] != client.is_active:
                quota = self._load(ClientQuota, ClientQuota.create_id(account_id))
                if values["is_active"]:
                    quota.take(client.id, limits_of(self.get_account(account_id).plan).active_clients)
                    client.reactivate()
                else:
                    quota.release(client.id)
                    client.deactivate()
            self.save(client, quota)
            return int(client.version)

        return self._retrying(command, account_id)

    def deactivate_client(self, account_id: UUID, client_id: UUID, expected: Expected = None) -> int:
        return self.update_client(account_id, client_id, {"is_active": False}, expected)
