"""Request budgets with the `limits` library (moving window, exact).

The counters live in this process's memory by default, or in Redis
(CLEVERINVO_REDIS_URL), where every worker and host spends from the same budget: with
four workers a key still has its 120 a minute, not 480. Keys are prefixed with
CLEVERINVO_REDIS_PREFIX, so several installations (or test runs) can share a server.
"""

import asyncio
import math
import time
from dataclasses import dataclass

from limits import parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from gateway.settings import Settings


@dataclass(frozen=True)
class Budget:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_seconds))
        return headers


def budgets(rate: str, settings: Settings) -> "RateLimiter":
    """A limiter of ``rate`` in the configured storage (memory, or Redis with the prefix)."""
    return RateLimiter(rate, settings.rate_limit_storage, settings.redis_prefix)


class BudgetsUnavailable(Exception):
    """The counters' storage cannot be reached: answered 503 with Retry-After, never 500,
    and nothing is let through unmetered."""


class RateLimiter:
    def __init__(self, spec: str, storage_uri: str, key_prefix: str = "cleverinvo") -> None:
        self.item = parse(spec)
        self._uri = storage_uri
        self._prefix = key_prefix
        self._redis = storage_uri.startswith(("async+redis", "async+rediss"))
        self._loop: asyncio.AbstractEventLoop | None = None
        self.limiter = MovingWindowRateLimiter(self._storage())

    def _storage(self) -> Storage:
        if self._redis:  # redis-py's asyncio client, not coredis
            storage = storage_from_string(
                self._uri, implementation="redispy", key_prefix=self._prefix, wrap_exceptions=True
            )
        else:
            storage = storage_from_string(self._uri, wrap_exceptions=True)
        if not isinstance(storage, Storage):
            raise ValueError(f"not an async+ rate-limit storage: {self._uri}")
        return storage

    def _for_this_loop(self) -> None:
        """A Redis client's connections belong to the event loop that opened them: an app
        served again in another loop (a test's second client) gets a client of its own. The
        counters are in Redis, so nothing is lost; memory counters stay as they are."""
        loop = asyncio.get_running_loop()
        if self._redis and self._loop is not None and self._loop is not loop:
            self.limiter = MovingWindowRateLimiter(self._storage())
        self._loop = loop

    async def spend(self, identity: str) -> Budget:
        self._for_this_loop()
        try:
            allowed = await self.limiter.hit(self.item, identity)
            stats = await self.limiter.get_window_stats(self.item, identity)
        except StorageError as exc:  # Redis down or unreachable: nobody's budget can be told
            raise BudgetsUnavailable("Rate limiting is unavailable; retry shortly") from exc.storage_error
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Budget(allowed, self.item.amount, max(0, stats.remaining), reset)
