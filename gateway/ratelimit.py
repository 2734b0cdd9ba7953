"""Request budgets with the `limits` library (moving window, exact).

The counters live in this process's memory by default, or in Redis
(CLEVERINVO_REDIS_URL), where every worker and host spends from the same budget: with
four workers a key still has its 120 a minute, not 480. Keys are prefixed with
CLEVERINVO_REDIS_PREFIX, so several installations (or test runs) can share a server.
"""

import math
import time
from dataclasses import dataclass

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
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


class RateLimiter:
    def __init__(self, spec: str, storage_uri: str, key_prefix: str = "cleverinvo") -> None:
        self.item = parse(spec)
        if storage_uri.startswith("async+redis"):  # redis-py's asyncio client, not coredis
            storage = storage_from_string(storage_uri, implementation="redispy", key_prefix=key_prefix)
        else:
            storage = storage_from_string(storage_uri)
        self.limiter = MovingWindowRateLimiter(storage)

    async def spend(self, identity: str) -> Budget:
        allowed = await self.limiter.hit(self.item, identity)
        stats = await self.limiter.get_window_stats(self.item, identity)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Budget(allowed, self.item.amount, max(0, stats.remaining), reset)
