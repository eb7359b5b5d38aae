"""A steady, bounded webhook load on a loopback ingress, remembering every answer.

Requests go out at a fixed rate whatever the answers (a monitoring tool does not slow down
because we are in trouble), at most ``max_in_flight`` at a time; each outcome records when it
was sent and answered, the status, and the request id the ingress gave it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Outcome:
    seq: int
    sent: float  # monotonic seconds
    answered: float
    status: int  # 0: no HTTP answer (connection error or client timeout)
    request_id: str | None
    body: bytes
    error: str | None = None  # what the client saw when there was no HTTP answer


@dataclass
class LoadResult:
    outcomes: list[Outcome] = field(default_factory=list)

    def statuses(self) -> Counter[int]:
        return Counter(o.status for o in self.outcomes)

    def errors(self) -> Counter[str]:
        """Why requests got no HTTP answer (status 0), by kind."""
        return Counter(o.error for o in self.outcomes if o.error is not None)

    def ok(self) -> list[Outcome]:
        return [o for o in self.outcomes if 200 <= o.status < 300]

    def sent_between(self, start: float, end: float) -> list[Outcome]:
        return [o for o in self.outcomes if start <= o.sent < end]

    def first_ok_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` to the first 2xx answer to a request sent after it."""
        times = [o.answered for o in self.ok() if o.sent >= moment]
        return min(times) - moment if times else None


async def steady_load(
    urls: list[str],
    body_of: Callable[[int], bytes],
    *,
    rate: float,
    count: int,
    stop: asyncio.Event | None = None,
    max_in_flight: int = 256,
    timeout: float = 60.0,
    content_type: str = "application/json",
) -> LoadResult:
    """POST ``body_of(n)`` to ``urls[n % len(urls)]`` for n in 0..count-1 at ``rate`` per
    second (or until ``stop``)."""
    for url in urls:
        if urlsplit(url).hostname not in LOOPBACK:
            raise ValueError(f"refusing to load {url}: loopback only")
    result = LoadResult()
    gate = asyncio.Semaphore(max_in_flight)
    # Idle connections closed before the ingress closes them (its keep-alive is 5 s, httpx's
    # default expiry too): reusing one as the server closes it gets no answer at all, the
    # status-0 ReadError the three-broker scenario met once in ~2,650 requests.
    limits = httpx.Limits(
        max_connections=max_in_flight, max_keepalive_connections=64, keepalive_expiry=2.0
    )
    headers = {"content-type": content_type}
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:

        async def one(seq: int, body: bytes) -> None:
            sent, error = time.monotonic(), None
            try:
                url = urls[seq % len(urls)]
                response = await client.post(url, content=body, headers=headers)
                status, rid = response.status_code, response.headers.get("x-request-id")
            except httpx.HTTPError as exc:
                status, rid, error = 0, None, f"{type(exc).__name__}: {exc}"[:200]
            finally:
                gate.release()
            result.outcomes.append(Outcome(seq, sent, time.monotonic(), status, rid, body, error))

        tasks = []
        started = time.monotonic()
        for seq in range(count):
            if stop is not None and stop.is_set():
                break
            delay = started + seq / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await gate.acquire()
            tasks.append(asyncio.create_task(one(seq, body_of(seq))))
        await asyncio.gather(*tasks)
    result.outcomes.sort(key=lambda o: o.seq)
    return result
