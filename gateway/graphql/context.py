"""What every resolver sees: the use cases, the key's account, and per-request loaders
that batch the use cases' lookups (a page and its relations in a constant number of
queries)."""

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader

from domain.errors import NotFound
from usecases.service import UseCases
from usecases.views import AccountView, ClientView, InvoiceDetail, PaymentView


class Loaders:
    """Batching loaders for one request (or one subscription event)."""

    def __init__(self, usecases: UseCases, account: UUID) -> None:
        async def clients(ids: list[str]) -> list[ClientView | None]:
            found = await run_in_threadpool(usecases.clients.many, account, ids)
            return [found.get(i) for i in ids]

        async def invoices(ids: list[str]) -> list[InvoiceDetail | None]:
            found = await run_in_threadpool(usecases.invoices.details, account, ids)
            return [found.get(i) for i in ids]

        async def payments(ids: list[str]) -> list[list[PaymentView]]:
            found = await run_in_threadpool(usecases.lifecycle.payments_of, account, ids)
            return [found.get(i, []) for i in ids]

        self.clients = DataLoader(load_fn=clients)
        self.invoices = DataLoader(load_fn=invoices)
        self.payments = DataLoader(load_fn=payments)
        self._usecases, self._key = usecases, account
        self._account: AccountView | None = None

    async def account(self) -> AccountView | None:
        if self._account is None:
            self._account = await run_in_threadpool(self._usecases.accounts.find, self._key)
        return self._account


@dataclass
class Context:
    usecases: UseCases
    public_url: str
    account_id: UUID | None = None
    key_id: str | None = None  # a websocket's key, checked again while its subscriptions run
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None  # a websocket's connection_init payload
    _loaders: Loaders | None = field(default=None, repr=False)

    @property
    def account(self) -> UUID:
        if self.account_id is None:  # the guard lets no unauthenticated operation through
            raise NotFound("Account not found")
        return self.account_id

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.usecases, self.account)
        return self._loaders

    def fresh(self) -> None:
        """Forgets what the loaders hold: after a mutation, or between subscription events."""
        self._loaders = None
