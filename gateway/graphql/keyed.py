"""Idempotency keys for mutations: REST's ``Idempotency-Key`` guarantee through GraphQL.

A mutation given ``idempotencyKey`` runs at most once for the key's account: a retry with
the same key and the same arguments within 24 hours gets the first result (the record as
that mutation left it, whatever changed since), the same key with other arguments or
another mutation is refused (``IDEMPOTENCY_KEY_REUSED``), and a retry while the first one
runs is refused with ``IDEMPOTENCY_IN_FLIGHT`` and ``retryAfter``. Keys are REST's, in
one space per account (``gateway/graphql/idempotent_mutations.py``). If the process running the
first one died after its commit, the result is rebuilt from the events it recorded, at the
version they made (the use cases' ``at_version``), as REST's recovery does.

What is kept is the view the mutation read back (a client, an invoice, a payment with its
invoice), so the replay resolves the same selection over the same values.
"""

import dataclasses
import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

import msgspec
import strawberry
from starlette.concurrency import run_in_threadpool

from domain.errors import Conflict
from gateway.graphql.idempotent_mutations import run_once
from gateway.http.idempotency_keys import Keys
from gateway.services import Services
from usecases.lifecycle import PaymentAnswer
from usecases.service import UseCases
from usecases.views import ClientView, InvoiceDetail, MarkedEvent

V = TypeVar("V")
KEY_DESCRIPTION = (
    "Runs this mutation at most once: send a fresh random value (a UUID) and the same value with each retry; "
    "a retry gets the first result. 1 to 255 printable ASCII characters; REST's Idempotency-Key rules."
)


def _plain(value: Any) -> Any:
    """The arguments as the client gave them, for the key's fingerprint."""
    if value is strawberry.UNSET:
        return {"$unset": True}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, Decimal | UUID | date | datetime):
        return str(value)
    return value


def fingerprint(arguments: dict[str, Any]) -> str:
    return json.dumps(_plain(arguments), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _services(info: Any) -> Services:
    services: Services = info.context.request.app.state.services
    return services


def _keys(services: Services) -> Keys:
    keys = getattr(services, "_graphql_keys", None)
    if keys is None:
        keys = Keys(services)
        services._graphql_keys = keys  # type: ignore[attr-defined]  # one per process, as REST's middleware
    return keys


class Kept:
    """How one kind of result is kept, and rebuilt from a dead run's events."""

    def __init__(self, kind: type[Any], rebuild: Callable[[UseCases, UUID, list[MarkedEvent]], Any]) -> None:
        self.kind = kind
        self.rebuild = rebuild

    def keep(self, value: Any) -> Any:
        return msgspec.to_builtins(value)

    def restore(self, kept: Any) -> Any:
        return msgspec.convert(kept, self.kind, strict=False)


def _last_of(marked: list[MarkedEvent], kind: str | None = None) -> MarkedEvent:
    found = [m for m in marked if kind is None or m.kind == kind]
    return found[-1]


def _client_then(usecases: UseCases, account: UUID, marked: list[MarkedEvent]) -> Any:
    last = _last_of([m for m in marked if m.kind.startswith("Client.")])
    client = usecases.clients.at_version(account, last.aggregate_id, last.version)
    return None if client is None else msgspec.to_builtins(client)


def _invoice_then(usecases: UseCases, account: UUID, marked: list[MarkedEvent]) -> Any:
    last = _last_of([m for m in marked if m.kind.startswith("Invoice.")])
    then = usecases.invoices.at_version(account, last.aggregate_id, last.version)
    return None if then is None else msgspec.to_builtins(then.invoice)


def _payment_then(usecases: UseCases, account: UUID, marked: list[MarkedEvent]) -> Any:
    last = _last_of([m for m in marked if m.kind.startswith("Invoice.")])
    paid = last.field("payment_id")
    if paid is None:
        return None
    answer = usecases.lifecycle.payment_at_version(account, last.aggregate_id, last.version, UUID(str(paid)))
    return None if answer is None else msgspec.to_builtins(answer)


def _done(_usecases: UseCases, _account: UUID, _marked: list[MarkedEvent]) -> Any:
    return True


CLIENT = Kept(ClientView, _client_then)
INVOICE = Kept(InvoiceDetail, _invoice_then)
PAYMENT = Kept(PaymentAnswer, _payment_then)
DONE = Kept(bool, _done)


async def keyed(
    info: Any,
    key: str | None,
    operation: str,
    arguments: dict[str, Any],
    kept: Kept,
    run: Callable[[], Awaitable[V]],
) -> V:
    """``run``'s result, at most once per key (see the module's docstring); without a key,
    simply ``run``."""
    if key is None:
        return await run()
    services = _services(info)
    account: UUID = info.context.account
    first: list[V] = []

    async def once() -> Any:
        value = await run()
        first.append(value)
        return kept.keep(value)

    def rebuild(marked: list[MarkedEvent]) -> Any:
        return kept.rebuild(info.context.usecases, account, marked)

    result = await run_once(_keys(services), str(account), key, operation, fingerprint(arguments), once, rebuild)
    if first:
        return first[0]
    if result.value is None:  # a dead run's result that could not be rebuilt: never run it again
        raise Conflict(
            "This mutation took effect before the service restarted, but its result could not be made again; "
            "read the record instead of retrying"
        )
    restored: V = await run_in_threadpool(kept.restore, result.value)
    return restored
