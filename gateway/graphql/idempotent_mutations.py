"""Idempotency keys for GraphQL mutations: REST's guarantee (``gateway/http/idempotency.py``),
for a resolver to call.

    once = await run_once(keys, account_id, key, "createInvoice", fingerprint, run, rebuild)

- ``keys``: the process's ``gateway.http.idempotency.Keys`` (one per app: ``Keys(services)``).
- ``account_id``: the API key's account; keys belong to it, and REST and GraphQL share
  them (a key used for a REST POST and then for a mutation is reused: refused).
- ``key``: the client's idempotency key, as REST's header takes it (1 to 255 printable
  ASCII characters).
- ``operation``: the mutation's name; ``fingerprint``: its arguments as the client sent
  them, in a stable form (canonical JSON of the variables and inputs, say). Hashed; the
  same key with another operation or fingerprint is refused.
- ``run``: does the mutation once and returns its result as a JSON value (what the
  resolver then turns into its types). Run with the claim's reference as the actor's, so
  its events carry it.
- ``rebuild``: makes that JSON value again from the events a run recorded
  (``projections.marked_events.MarkedEvent``), for a retry after the process running it died
  between its commit and keeping its result.

Returns ``Once(value, replayed)``: ``run``'s value the first time, the kept one (or the
rebuilt one) on a retry within 24 hours, ``replayed`` saying which. Raises
``IdempotencyKeyReused`` (REST's 422) or ``IdempotencyInFlight`` (REST's 409, retry after
a second), both domain errors, so the GraphQL door reports them like any other; and an
invalid key as a ``ValidationError``. An error ``run`` raises is raised again and not
kept: the key is given up, so a retry runs again, unless ``run`` recorded events before
it failed; then a retry gets the value ``rebuild`` makes of them.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from domain.errors import ValidationError
from gateway.http.idempotency_keys import Keys, valid_key
from projections.marked_events import MarkedEvent
from storage.idempotency import Claimed, InFlight, Mismatch, Replay, StoredResponse
from usecases.errors import IdempotencyInFlight, IdempotencyKeyReused

__all__ = ["IdempotencyInFlight", "IdempotencyKeyReused", "Once", "run_once"]

JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Once:
    value: Any  # a JSON value
    replayed: bool


def _stored(value: Any) -> StoredResponse:
    body = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return StoredResponse(200, [("content-type", JSON_TYPE)], body)


async def run_once(
    keys: Keys,
    account_id: str,
    key: str,
    operation: str,
    fingerprint: str,
    run: Callable[[], Awaitable[Any]],
    rebuild: Callable[[list[MarkedEvent]], Any],
) -> Once:
    """Runs ``run`` at most once for (account, key) and answers every retry alike (see
    the module's docstring)."""
    if not valid_key(key):
        raise ValidationError("The idempotency key must be 1 to 255 printable ASCII characters", "idempotencyKey")
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()
    claim = await keys.take(account_id, key, f"GraphQL {operation}", digest, lambda marked: _stored(rebuild(marked)))
    if isinstance(claim, Replay):
        return Once(json.loads(claim.response.body), replayed=True)
    if isinstance(claim, Mismatch):
        raise IdempotencyKeyReused("This idempotency key was used for another operation or arguments; use a new key")
    if isinstance(claim, InFlight):
        raise IdempotencyInFlight("A request with this idempotency key is still in progress; retry later")
    return Once(await _first(keys, claim, run, rebuild), replayed=False)


async def _first(
    keys: Keys, claim: Claimed, run: Callable[[], Awaitable[Any]], rebuild: Callable[[list[MarkedEvent]], Any]
) -> Any:
    try:
        async with keys.running(claim):
            value = await run()
        stored = _stored(value)  # a value that is not JSON is the caller's mistake
    except BaseException:
        await keys.release(claim, lambda marked: _stored(rebuild(marked)))
        raise
    await keys.keep(claim, stored)
    return value
