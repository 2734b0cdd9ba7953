"""Idempotency keys for GraphQL mutations: REST's guarantee (``gateway/http/idempotency.py``),
for a resolver to call. The key's store is handled in ``gateway.http.idempotency_keys``
(``run_once``); this door only calls it.

    once = await run_once(keys, account_id, key, "createInvoice", fingerprint, run, rebuild)

- ``keys``: the process's ``gateway.http.idempotency_keys.Keys`` (one per app: ``Keys(services)``).
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
  (``usecases.views.MarkedEvent``), for a retry after the process running it died
  between its commit and keeping its result.

Returns ``Once(value, replayed)``: ``run``'s value the first time, the kept one (or the
rebuilt one) on a retry within 24 hours, ``replayed`` saying which. Raises
``IdempotencyKeyReused`` (REST's 422) or ``IdempotencyInFlight`` (REST's 409, retry after
a second), both domain errors, so the GraphQL door reports them like any other; and an
invalid key as a ``ValidationError``. An error ``run`` raises is raised again and not
kept: the key is given up, so a retry runs again, unless ``run`` recorded events before
it failed; then a retry gets the value ``rebuild`` makes of them.
"""

from gateway.http.idempotency_keys import Once, run_once
from usecases.errors import IdempotencyInFlight, IdempotencyKeyReused

__all__ = ["IdempotencyInFlight", "IdempotencyKeyReused", "Once", "run_once"]
