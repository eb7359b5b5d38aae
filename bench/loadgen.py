"""A bounded HTTP/1.1 load over keep-alive connections to loopback URLs, as its own process.
Prints one JSON object: counts by status, elapsed, requests/s, latency percentiles (ms).
Plain asyncio streams + uvloop: cheap enough per request that the server, not the client, is
what gets measured on a 2-core machine.

Closed loop (default): COUNT POSTs as fast as CONCURRENCY connections get answers.
Paced (--rate R --duration S): R POSTs a second for S seconds, each sent at its slot or as
soon as a connection is free; ``late_p99_ms`` says how far behind the schedule sending fell.
Bodies may hold the tokens ``@SEQ@`` (the request's number) and ``@SENT_NS@`` (time.time_ns()
when it is written to the socket); the end-to-end bench finds its alerts by them.

    python -m bench.loadgen URL BODY_FILE --count 20000 --concurrency 64
    python -m bench.loadgen --plan targets.json --rate 1000 --duration 30

A plan is a JSON list of {"url", "body_file", "content_type"}; requests cycle through it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import uvloop

from bench.figures import latency_summary

LOOPBACK = ("127.0.0.1", "localhost", "::1")
SEQ, SENT_NS = b"@SEQ@", b"@SENT_NS@"


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    head: str  # request line and headers up to Content-Length's value
    body: bytes

    @property
    def stamped(self) -> bool:
        return SEQ in self.body or SENT_NS in self.body

    def request(self, seq: int) -> bytes:
        body = self.body
        if self.stamped:
            body = body.replace(SEQ, str(seq).encode()).replace(
                SENT_NS, str(time.time_ns()).encode()
            )
        return f"{self.head}{len(body)}\r\n\r\n".encode() + body


def target(url: str, body: bytes, content_type: str) -> Target:
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK:
        raise SystemExit(f"refusing to load {parts.hostname}: loopback only")
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: alertpipe-loadgen\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: "
    )
    return Target(parts.hostname, parts.port or 80, head, body)


@dataclass
class Schedule:
    """Who sends next: a shared counter; paced runs also have a start and a rate."""

    total: int
    rate: float | None = None
    started: float = 0.0
    next_seq: int = 0
    latencies: list[float] = field(default_factory=list)
    late: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def take(self) -> int | None:
        if self.next_seq >= self.total:
            return None
        self.next_seq += 1
        return self.next_seq - 1


async def connection(targets: list[Target], schedule: Schedule) -> None:
    first = targets[0]
    reader, writer = await asyncio.open_connection(first.host, first.port)
    try:
        while (seq := schedule.take()) is not None:
            if schedule.rate is not None:
                due = schedule.started + seq / schedule.rate
                if (wait := due - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                schedule.late.append(max(0.0, time.perf_counter() - due))
            started = time.perf_counter()
            writer.write(targets[seq % len(targets)].request(seq))
            status_line = await reader.readuntil(b"\r\n")
            length = 0
            while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            schedule.latencies.append(time.perf_counter() - started)
            schedule.statuses[int(status_line.split(b" ", 2)[1])] += 1
    finally:
        writer.close()


async def run(
    targets: list[Target], count: int, concurrency: int, rate: float | None = None
) -> dict[str, object]:
    schedule = Schedule(total=count, rate=rate, started=time.perf_counter())
    results = await asyncio.gather(
        *(connection(targets, schedule) for _ in range(concurrency)), return_exceptions=True
    )
    elapsed = time.perf_counter() - schedule.started
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    summary = latency_summary([x * 1000 for x in schedule.latencies])
    late = latency_summary([x * 1000 for x in schedule.late])
    answered = len(schedule.latencies)
    return {
        "count": count,
        "concurrency": concurrency,
        "offered_rate": rate,
        "answered": answered,
        "statuses": {str(k): v for k, v in sorted(schedule.statuses.items())},
        "connection_errors": errors[:5],
        "elapsed_s": round(elapsed, 3),
        "rps": round(answered / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(summary["p50_ms"], 2),
        "p99_ms": round(summary["p99_ms"], 2),
        "max_ms": round(summary["max_ms"], 2),
        "late_p99_ms": round(late["p99_ms"], 2),
    }


def read_plan(path: Path) -> list[Target]:
    return [
        target(item["url"], Path(item["body_file"]).read_bytes(), item["content_type"])
        for item in json.loads(path.read_text())
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("url", nargs="?")
    parser.add_argument("body", nargs="?", type=Path)
    parser.add_argument("--plan", type=Path, help="JSON list of targets instead of URL BODY")
    parser.add_argument("--content-type", default="application/json")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rate", type=float, help="requests/s (paced); with --duration")
    parser.add_argument("--duration", type=float, help="seconds (paced)")
    args = parser.parse_args()
    if args.plan:
        targets = read_plan(args.plan)
    elif args.url and args.body:
        targets = [target(args.url, args.body.read_bytes(), args.content_type)]
    else:
        parser.error("give URL and BODY, or --plan")
    count = args.count
    if args.rate is not None:
        if args.duration is None:
            parser.error("--rate needs --duration")
        count = int(args.rate * args.duration)
    result = uvloop.run(run(targets, count, args.concurrency, args.rate))
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
