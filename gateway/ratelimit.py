"""Per-key request budgets with the `limits` library (moving window, exact)."""

import math
import time
from dataclasses import dataclass

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


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


class RateLimiter:
    def __init__(self, spec: str, storage_uri: str) -> None:
        self.item = parse(spec)
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    async def spend(self, identity: str) -> Budget:
        allowed = await self.limiter.hit(self.item, identity)
        stats = await self.limiter.get_window_stats(self.item, identity)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Budget(allowed, self.item.amount, max(0, stats.remaining), reset)
