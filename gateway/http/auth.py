"""API-key authentication: hash lookup, constant-time comparison, revocation honoured.

What a key is (its id, account and name) never changes, so a process remembers the keys it
has found live (``KeyCache``); whether a key is still live can change at any moment, in any
process (``cleverinvo keys revoke``, the dashboard, another API process), so it is read
again on every request, fresh from the shared read model: ``Pending.run`` reads the key's
row in one statement. The guard (``gateway.http.guard``) lets a REST request run that read
in the same worker-thread call as its first use case (``gateway.http.calls.call``): one
thread hop per request instead of two, and nothing of the request runs before the key is
known live.
"""

import contextvars
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine, bindparam, select

from database.engines import single_statements
from domain.keys import PREFIX, hash_key, looks_like_key, same_hash
from gateway.services import Services
from projections.tables import api_keys
from projections.views import KeyView

T = TypeVar("T")

# What a client means as a key: the prefix and the key alphabet, whatever the length. One
# of the wrong length is an unknown key (no key has that shape), not a malformed header.
_CANDIDATE = re.compile(re.escape(PREFIX) + r"[A-Za-z0-9_-]+")
# Whether the key with this hash is revoked: one indexed row, one statement.
_REVOKED_AT = select(api_keys.c.revoked_at).where(api_keys.c.key_hash == bindparam("key_hash"))
CACHED_KEYS = 4096  # more live keys than this in use at once only cost their first lookups again


class KeyRevoked(Exception):
    """The remembered key was revoked (or is gone): the request is answered 401."""


def bearer_token(header: str | None) -> str | None:
    """The key a ``Bearer cinv_...`` header carries, known or not; None for anything else."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or _CANDIDATE.fullmatch(token) is None:
        return None
    return token


def authenticate(services: Services, token: str) -> KeyView | None:
    """The live key for ``token``, or None. A miss catches the read model up once, so a
    key created by another process (the CLI) works at once. A token of a shape no key has
    is refused without a lookup."""
    if not looks_like_key(token):
        return None
    wanted = hash_key(token)
    found = services.read.key_by_hash(wanted)
    if found is None:
        services.projector.catch_up()
        found = services.read.key_by_hash(wanted)
    if found is None:
        return None
    key, stored = found
    if not same_hash(stored, wanted) or key.revoked_at is not None:
        return None
    return key


@dataclass
class Pending:
    """The freshness read a remembered key still owes its request: ``run`` once, in a
    worker thread, before anything else of the request touches a store."""

    services: Services
    token: str
    cache: "KeyCache"
    done: bool = field(default=False)

    def run(self) -> None:
        """Raises ``KeyRevoked`` unless the key is live now (and forgets it then)."""
        if self.done:
            return
        wanted = hash_key(self.token)
        row = _revoked_at(self.services.read.engine, wanted)
        live = row is not None and row[0] is None
        if row is None:  # gone from the read model (a rebuild under way?): the whole lookup
            live = authenticate(self.services, self.token) is not None
        if not live:
            self.cache.forget(wanted)
            raise KeyRevoked
        self.done = True


def _revoked_at(engine: Engine, key_hash: str) -> tuple[Any, ...] | None:
    """The key's ``revoked_at`` row, read in one statement in autocommit: no BEGIN, no
    ROLLBACK (``database.engines.single_statements``)."""
    with single_statements(engine).connect() as conn:
        row = conn.execute(_REVOKED_AT, {"key_hash": key_hash}).first()
    return tuple(row) if row is not None else None


# The request's pending freshness read, set by the guard around the app it runs.
_PENDING: contextvars.ContextVar[Pending | None] = contextvars.ContextVar("cleverinvo_pending_key", default=None)


def pending() -> Pending | None:
    """This request's key check, when it has not run yet."""
    found = _PENDING.get()
    return found if found is not None and not found.done else None


def owing(check: Pending | None) -> contextvars.Token[Pending | None]:
    """Sets this request's key check (the guard, around the app); ``settle`` undoes it."""
    return _PENDING.set(check)


def settle(token: contextvars.Token[Pending | None]) -> None:
    _PENDING.reset(token)


def checked(use_case: Callable[..., T], check: Pending) -> Callable[..., T]:
    """``use_case`` preceded by the key's check, for one call in a worker thread."""

    def run(*args: object) -> T:
        check.run()
        return use_case(*args)

    return run


class KeyCache:
    """Keys found live in this process, by hash: what they are, not whether they still are."""

    def __init__(self, size: int = CACHED_KEYS) -> None:
        self.size = size
        self._keys: dict[str, KeyView] = {}

    def get(self, token: str) -> KeyView | None:
        return self._keys.get(hash_key(token)) if looks_like_key(token) else None

    def remember(self, token: str, key: KeyView) -> None:
        if len(self._keys) >= self.size:
            self._keys.clear()  # cheaper than keeping an order; the live keys come back at once
        self._keys[hash_key(token)] = key

    def forget(self, key_hash: str) -> None:
        self._keys.pop(key_hash, None)
