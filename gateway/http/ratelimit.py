"""Request budgets: moving windows, exact.

The counters live in this process's memory by default (``MemoryWindows``), or in Redis
(CLEVERINVO_REDIS_URL) through the `limits` library, where every worker and host spends
from the same budget: with four workers a key still has its 120 a minute, not 480. Keys
are prefixed with CLEVERINVO_REDIS_PREFIX, so several installations (or test runs) can
share a server.

Why memory is not `limits`' own memory storage (5.8.0): each of its hits schedules an
expiry pass that visits every identity it holds and hands each one's bisect to a thread
(``asyncio.to_thread``), and it inserts every hit at the front of a list. Measured on a
``GET /invoices/{id}``, that pass was 22% of the request's time with a single key; it
grows with the number of keys and addresses seen in the last minute. ``MemoryWindows``
keeps the same moving window (a hit counts if fewer than the limit fell in the last
window; refused hits do not count) in a deque per identity: O(1) a hit, no thread, no
background task, and idle identities dropped once a window.

Redis is asked with a short timeout (``CLEVERINVO_REDIS_TIMEOUT_MS``, 500 ms by default, for a
connection and for each reply) and
no retries inside a request: a Redis that is stopped refuses at once, but one that is frozen
(SIGSTOP, a partition) accepts the connection and never answers, and without a read timeout
every request waited about 5 s on it. With them a request is answered 503 within about a
second and ``/readyz`` (gateway/http/health.py) reports Redis as failing, so a load balancer
takes the host out.
"""

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from limits import parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from gateway.settings import Settings

REDIS_TIMEOUT_SECONDS = 0.5  # opening a connection, and waiting for one reply (CLEVERINVO_REDIS_TIMEOUT_MS)


def redis_options(timeout: float = REDIS_TIMEOUT_SECONDS) -> dict[str, Any]:
    """The Redis client's options: short timeouts and no retry inside a request (a retry of a
    frozen server only multiplies the wait; the client's answer is 503 with Retry-After).
    redis is imported here: it is an extra, installed only where Redis is configured."""
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return {
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,  # a moving-window hit is one script call: one reply
        "retry": Retry(NoBackoff(), 0),
    }


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
    return RateLimiter(rate, settings.rate_limit_storage, settings.redis_prefix, settings.redis_timeout_ms / 1000)


class BudgetsUnavailable(Exception):
    """The counters' storage cannot be reached: answered 503 with Retry-After, never 500,
    and nothing is let through unmetered."""


class MemoryWindows:
    """Exact moving windows in this process's memory: at most ``amount`` hits in any
    ``seconds``, per identity. Not thread-safe: called from the event loop only."""

    def __init__(self, amount: int, seconds: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.amount, self.seconds, self._clock = amount, seconds, clock
        self._hits: dict[str, deque[float]] = {}
        self._next_sweep = clock() + seconds

    def spend(self, identity: str) -> Budget:
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        hits = self._hits.get(identity)
        if hits is None:
            hits = self._hits[identity] = deque()
        since = now - self.seconds
        while hits and hits[0] <= since:
            hits.popleft()
        allowed = len(hits) < self.amount
        if allowed:
            hits.append(now)
        reset = math.ceil(hits[0] + self.seconds - now) if hits else 0
        return Budget(allowed, self.amount, self.amount - len(hits), max(0, reset))

    def _sweep(self, now: float) -> None:
        """Forgets identities with no hit in the last window (at most once a window)."""
        since = now - self.seconds
        for identity in [name for name, hits in self._hits.items() if not hits or hits[-1] <= since]:
            del self._hits[identity]
        self._next_sweep = now + self.seconds


class RateLimiter:
    def __init__(
        self, spec: str, storage_uri: str, key_prefix: str = "cleverinvo", timeout: float = REDIS_TIMEOUT_SECONDS
    ) -> None:
        self.item = parse(spec)
        self._timeout = timeout
        self._uri = storage_uri
        self._prefix = key_prefix
        self._loop: asyncio.AbstractEventLoop | None = None
        redis = storage_uri.startswith(("async+redis", "async+rediss"))
        if not redis and not storage_uri.startswith("async+memory://"):
            raise ValueError(f"not a rate-limit storage: {storage_uri}")
        # exactly one of the two: the counters in this process, or a client of Redis's
        self._memory = None if redis else MemoryWindows(self.item.amount, self.item.get_expiry())
        self.limiter = self._redis_limiter() if redis else None

    def _redis_limiter(self) -> MovingWindowRateLimiter:
        # redis-py's asyncio client, not coredis
        uri, prefix = self._uri, self._prefix
        storage = storage_from_string(
            uri, implementation="redispy", key_prefix=prefix, wrap_exceptions=True, **redis_options(self._timeout)
        )
        if not isinstance(storage, Storage):
            raise ValueError(f"not an async+ rate-limit storage: {self._uri}")
        return MovingWindowRateLimiter(storage)

    def _for_this_loop(self) -> None:
        """A Redis client's connections belong to the event loop that opened them: an app
        served again in another loop (a test's second client) gets a client of its own. The
        counters are in Redis, so nothing is lost."""
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop:
            self.limiter = self._redis_limiter()
        self._loop = loop

    async def spend(self, identity: str) -> Budget:
        if self._memory is not None:
            return self._memory.spend(identity)
        self._for_this_loop()
        assert self.limiter is not None
        try:
            allowed = await self.limiter.hit(self.item, identity)
            stats = await self.limiter.get_window_stats(self.item, identity)
        except StorageError as exc:  # Redis down or unreachable: nobody's budget can be told
            raise BudgetsUnavailable("Rate limiting is unavailable; retry shortly") from exc.storage_error
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Budget(allowed, self.item.amount, max(0, stats.remaining), reset)
