"""Token buckets per integration key. Pure: callers pass ``now`` (monotonic seconds)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenBucket:
    tokens: float
    updated: float


class RateLimiter:
    """``rate`` tokens per second, at most ``burst`` stored, one bucket per key.

    Memory stays bounded: once more than ``max_keys`` buckets exist, buckets that have refilled
    completely (idle keys) are dropped; a dropped bucket comes back full, which is what it was.
    """

    def __init__(self, rate: float, burst: int, max_keys: int = 10_000) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def acquire(self, key: str, now: float) -> float:
        """Take one token: 0.0 when allowed, else the seconds until a token is available."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._evict_full(now)
            bucket = self._buckets[key] = TokenBucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def _evict_full(self, now: float) -> None:
        full = [
            k
            for k, b in self._buckets.items()
            if b.tokens + (now - b.updated) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]
