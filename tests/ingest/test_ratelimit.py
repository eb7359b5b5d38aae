from __future__ import annotations

import pytest

from ingest.ratelimit import RateLimiter


def test_burst_then_steady_rate() -> None:
    limiter = RateLimiter(rate=10, burst=3)
    assert [limiter.acquire("k", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("k", 0.0) == pytest.approx(0.1)
    assert limiter.acquire("k", 0.1) == 0.0
    assert limiter.acquire("other", 0.1) == 0.0  # keys do not share a bucket


def test_idle_buckets_are_evicted_past_the_bound() -> None:
    limiter = RateLimiter(rate=1, burst=2, max_keys=2)
    limiter.acquire("a", 0.0)
    limiter.acquire("b", 0.0)
    limiter.acquire("c", 10.0)  # a and b have refilled: evicted
    assert set(limiter._buckets) == {"c"}
    limiter.acquire("d", 10.0)
    limiter.acquire("e", 10.0)  # c and d are not full yet: kept, the map grows past the bound
    assert set(limiter._buckets) == {"c", "d", "e"}
