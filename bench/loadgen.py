"""A bounded HTTP/1.1 load: COUNT POSTs of one body over CONCURRENCY keep-alive connections to
a loopback URL. Prints one JSON object: counts by status, elapsed, requests/s, latency
percentiles (ms). Plain asyncio streams + uvloop: cheap enough per request that the server,
not the client, is what gets measured on a 2-core machine.

    python -m bench.loadgen URL BODY_FILE --count 20000 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import uvloop

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def request_bytes(url: str, body: bytes, content_type: str) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK:
        raise SystemExit(f"refusing to load {parts.hostname}: loopback only")
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: alertpipe-loadgen\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return parts.hostname, parts.port or 80, head.encode() + body


async def connection(
    host: str,
    port: int,
    payload: bytes,
    quota: list[int],
    latencies: list[float],
    statuses: Counter[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while quota[0] > 0:
            quota[0] -= 1
            started = time.perf_counter()
            writer.write(payload)
            status_line = await reader.readuntil(b"\r\n")
            length = 0
            while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses[int(status_line.split(b" ", 2)[1])] += 1
    finally:
        writer.close()


async def run(
    url: str, body: bytes, content_type: str, count: int, concurrency: int
) -> dict[str, object]:
    host, port, payload = request_bytes(url, body, content_type)
    quota: list[int] = [count]
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    results = await asyncio.gather(
        *(connection(host, port, payload, quota, latencies, statuses) for _ in range(concurrency)),
        return_exceptions=True,
    )
    elapsed = time.perf_counter() - started
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    ms = sorted(x * 1000 for x in latencies)
    pct = statistics.quantiles(ms, n=100) if len(ms) > 1 else [0.0] * 99
    return {
        "count": count,
        "concurrency": concurrency,
        "answered": len(ms),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "connection_errors": errors[:5],
        "elapsed_s": round(elapsed, 3),
        "rps": round(len(ms) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(pct[49], 2),
        "p99_ms": round(pct[98], 2),
        "max_ms": round(ms[-1], 2) if ms else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("body", type=Path)
    parser.add_argument("--content-type", default="application/json")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    result = uvloop.run(
        run(args.url, args.body.read_bytes(), args.content_type, args.count, args.concurrency)
    )
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
