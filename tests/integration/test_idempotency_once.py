"""``run_once``: the guarantee of REST's Idempotency-Key for a GraphQL mutation resolver
(gateway/graphql/idempotent_mutations.py), on the real services, SQLite and PostgreSQL."""

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import update
from starlette.concurrency import run_in_threadpool

from domain.errors import ValidationError
from gateway.graphql.idempotent_mutations import IdempotencyInFlight, IdempotencyKeyReused, Once, run_once
from gateway.http.idempotency_keys import Keys
from gateway.services import Services
from projections.marked_events import MarkedEvent
from storage import holders
from storage.idempotency import IdempotencyStore, idempotency_keys
from tests.conftest import Tenant
from usecases.inputs import ClientFields


def dead_here() -> str:
    name, boot, space, pid, _started = holders.this_process().rsplit("/", 4)
    return "/".join((name, boot, space, pid, "1"))


class CreateClient:
    """A mutation as a resolver would run it: the command, then its result as JSON."""

    def __init__(self, services: Services, account: UUID, name: str = "Acme Corp") -> None:
        self.services, self.account, self.name = services, account, name
        self.runs = 0

    async def run(self) -> Any:
        self.runs += 1
        fields = ClientFields({"name": self.name})
        view = await run_in_threadpool(self.services.usecases.clients.create, self.account, fields)
        return {"id": view.id, "name": view.name}

    def rebuild(self, marked: list[MarkedEvent]) -> Any:
        created = next(m for m in marked if m.kind == "Client.ClientCreated")
        return {"id": str(created.aggregate_id), "name": created.field("name")}


def once(
    keys: Keys, tenant: Tenant, key: str, mutation: CreateClient, fingerprint: str = '{"name":"Acme Corp"}'
) -> Once:
    run: Callable[[], Awaitable[Any]] = mutation.run
    return asyncio.run(run_once(keys, str(tenant.account_id), key, "createClient", fingerprint, run, mutation.rebuild))


def clients(services: Services, tenant: Tenant) -> int:
    return services.read.clients(str(tenant.account_id), 1, 100).total


def test_a_mutation_runs_once_and_a_retry_gets_its_result(services: Services, tenant: Tenant) -> None:
    keys, mutation = Keys(services), CreateClient(services, tenant.account_id)
    first = once(keys, tenant, "m-1", mutation)
    again = once(keys, tenant, "m-1", mutation)
    assert not first.replayed and again.replayed and again.value == first.value
    assert mutation.runs == 1 and clients(services, tenant) == 1


def test_other_arguments_or_a_running_one_are_refused(services: Services, tenant: Tenant) -> None:
    keys, mutation = Keys(services), CreateClient(services, tenant.account_id)
    once(keys, tenant, "m-1", mutation)
    with pytest.raises(IdempotencyKeyReused) as reused:
        once(keys, tenant, "m-1", mutation, fingerprint='{"name":"Globex"}')
    assert reused.value.reason == "IDEMPOTENCY_KEY_REUSED" and reused.value.code == "BAD_REQUEST"
    running_elsewhere = hashlib.sha256(b"x").hexdigest()
    IdempotencyStore(services.projector.writer).claim(
        str(tenant.account_id), "busy", "GraphQL createClient", running_elsewhere, 0
    )
    with pytest.raises(IdempotencyInFlight) as running:
        once(keys, tenant, "busy", mutation, fingerprint="x")
    assert running.value.reason == "IDEMPOTENCY_IN_FLIGHT" and running.value.retry_after == 1
    assert mutation.runs == 1


def test_a_mutation_whose_process_died_after_its_commit_is_rebuilt_not_run_again(
    services: Services, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys, mutation = Keys(services), CreateClient(services, tenant.account_id)
    with monkeypatch.context() as died:  # committed, but its result was never kept
        died.setattr(IdempotencyStore, "complete", lambda self, claim, response: True)
        first = once(keys, tenant, "m-1", mutation)
    with services.projector.writer.begin() as conn:
        conn.execute(update(idempotency_keys).where(idempotency_keys.c.key == "m-1").values(holder=dead_here()))
    again = once(keys, tenant, "m-1", mutation)
    assert again == Once(first.value, replayed=True)
    assert mutation.runs == 1 and clients(services, tenant) == 1


def test_a_failed_mutation_is_not_kept_unless_it_wrote(services: Services, tenant: Tenant) -> None:
    keys = Keys(services)

    async def refused() -> Any:
        raise ValueError("nothing written")

    with pytest.raises(ValueError):
        asyncio.run(run_once(keys, str(tenant.account_id), "m-2", "createClient", "f", refused, lambda m: None))
    mutation = CreateClient(services, tenant.account_id)
    assert not once(keys, tenant, "m-2", mutation, fingerprint="f").replayed  # it ran this time

    async def writes_then_fails() -> Any:
        await mutation.run()
        raise RuntimeError("failed after the write")

    with pytest.raises(RuntimeError):
        asyncio.run(
            run_once(keys, str(tenant.account_id), "m-3", "createClient", "g", writes_then_fails, mutation.rebuild)
        )
    kept = once(keys, tenant, "m-3", mutation, fingerprint="g")
    assert kept.replayed and kept.value["name"] == "Acme Corp"
    assert clients(services, tenant) == 2


def test_a_bad_key_is_a_validation_error(services: Services, tenant: Tenant) -> None:
    with pytest.raises(ValidationError) as bad:
        once(Keys(services), tenant, "", CreateClient(services, tenant.account_id))
    assert bad.value.field == "idempotencyKey"
