"""Console page loads with many incidents and dead letters on the topics (issue 18: under
300 ms with 10,000 open incidents and 100,000 dead letters).

Fresh topics; raw records written as the ingress writes them (one CRITICAL per entity, each
opening an incident, and bodies that are not JSON, each a dead letter), decided by a real
`alertpipe worker`; then a real `alertpipe console` follows the topics, and each page is
loaded ``--repeat`` times over one keep-alive connection, as a browser would, timing the whole
answer (median, p99, min, max in ms). Not part of `make test`.

    python -m bench.console                       # 10,000 incidents, 100,000 dead letters
    python -m bench.console --incidents 1000 --dead-letters 10000 --repeat 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from alertpipe.harness import Proc, fresh_topics, spawn, wait_http_ready, wait_worker_ready
from alertpipe.harness import worker_env as harness_worker_env
from alertpipe.ports import free_port
from bench.stack import BenchError, kafka
from bench.stage1 import prefill
from kafkaio.settings import TopicSettings
from schemas.raw import RawHeaders, raw_record_key

ORG = "bench"
TOKEN = "bench-console-token-0123456789"
PAGES = (
    "/integrations",
    "/routes",
    "/incidents",
    "/incidents?org=bench&start=5000",
    "/dead-letters",
    "/dead-letters?code=invalid_json&start=50000",
    "/maintenance",
    "/health",
)


def raw_record(n: int, dead: bool, at: int) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    body = (
        b"not json %d" % n
        if dead
        else json.dumps(
            {"message_type": "CRITICAL", "entity_id": f"host-{n}", "state_message": "disk full"}
        ).encode()
    )
    headers = RawHeaders("generic", ORG, "bench", "ops", "application/json", at, f"r{n}",
                         "127.0.0.1", "bench", None if dead else f"host-{n}")  # fmt: skip
    return raw_record_key(ORG, "ops"), body, headers.to_kafka()


async def fill(bootstrap: str, topics: TopicSettings, incidents: int, dead_letters: int) -> None:
    at = int(time.time() * 1000)
    records = [raw_record(n, n >= incidents, at) for n in range(incidents + dead_letters)]
    await prefill(bootstrap, topics.raw, records)


def ready(client: httpx.Client, timeout: float) -> float:
    """Seconds until the console's pages no longer say it is loading."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        page = client.get("/incidents")
        if page.status_code == 200 and "Still loading" not in page.text:
            return time.monotonic() - start
        time.sleep(0.5)
    raise BenchError(f"the console did not catch up within {timeout:.0f}s")


def counts(client: httpx.Client) -> tuple[str, str]:
    """(open incidents, dead letters) as the console's pages say them."""
    incidents = re.search(r"<p>(\d+) incidents? open", client.get("/incidents").text)
    dead = re.search(r"<p>(\d+) in <code>", client.get("/dead-letters").text)
    return (incidents.group(1) if incidents else "?"), (dead.group(1) if dead else "?")


def time_pages(client: httpx.Client, pages: list[str], repeat: int) -> list[dict[str, object]]:
    rows = []
    for path in pages:
        client.get(path)  # warm: templates compiled, connection open
        took = []
        for _ in range(repeat):
            start = time.perf_counter()
            answer = client.get(path)
            took.append((time.perf_counter() - start) * 1000)
            if answer.status_code != 200:
                raise BenchError(f"{path}: {answer.status_code} {answer.text[:200]}")
        took.sort()
        p99 = took[min(len(took) - 1, round(0.99 * (len(took) - 1)))]
        rows.append({
            "page": path, "median_ms": statistics.median(took), "p99_ms": p99,
            "min_ms": took[0], "max_ms": took[-1], "bytes": len(answer.content),
        })  # fmt: skip
    return rows


def wait_drained(
    proc: Proc, client: httpx.Client, incidents: int, dead: int, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.check_alive()
        i, d = counts(client)
        if i == str(incidents) and d == str(dead):
            return
        time.sleep(1)
    raise BenchError(
        f"not all records were decided in {timeout:.0f}s (console shows {counts(client)})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--dead-letters", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    with kafka() as bootstrap, tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        data = Path(tmp)
        topics = asyncio.run(fresh_topics(bootstrap, partitions=6, prefix="benchconsole"))
        env = harness_worker_env(bootstrap, topics, data / "worker")
        worker = spawn("worker", ["worker"], env, data / "worker.log")
        port = free_port()
        console_env = {
            **env, "ALERTPIPE_CONSOLE_TOKEN": TOKEN, "ALERTPIPE_CONSOLE_PORT": str(port),
            "ALERTPIPE_CONSOLE_INGRESS_URL": "", "ALERTPIPE_CONSOLE_WORKER_URL": "",
        }  # fmt: skip
        procs = [worker]
        try:
            wait_worker_ready(worker)
            start = time.monotonic()
            asyncio.run(fill(bootstrap, topics, args.incidents, args.dead_letters))
            print(f"wrote {args.incidents + args.dead_letters} raw records in "
                  f"{time.monotonic() - start:.1f}s", file=sys.stderr)  # fmt: skip
            console = spawn("console", ["console"], console_env, data / "console.log", port)
            procs.append(console)
            wait_http_ready(console, f"{console.base_url}/healthz", 60)
            headers = {"Authorization": f"Bearer {TOKEN}"}
            with httpx.Client(base_url=console.base_url, headers=headers, timeout=30) as client:
                wait_drained(worker, client, args.incidents, args.dead_letters, 300)
                print(f"worker done after {time.monotonic() - start:.1f}s", file=sys.stderr)
                console.stop()
                procs.remove(console)
                fresh = spawn("console", ["console"], console_env, data / "console2.log", port)
                procs.append(fresh)
                wait_http_ready(fresh, f"{fresh.base_url}/healthz", 60)
                caught_up = ready(client, 600)
                print(f"a fresh console caught up in {caught_up:.1f}s; rss "
                      f"{fresh.rss_mib():.0f} MiB", file=sys.stderr)  # fmt: skip
                dead = client.get("/dead-letters").text
                first = dead.split('href="/dead-letters/', 1)[1].split('"', 1)[0]
                rows = time_pages(client, [*PAGES, f"/dead-letters/{first}"], args.repeat)
        finally:
            for proc in reversed(procs):
                proc.stop()
    print(f"console page loads, {args.incidents} open incidents, {args.dead_letters} dead "
          f"letters, {args.repeat} loads each (ms):")  # fmt: skip
    print(f"{'page':<48} {'median':>8} {'p99':>8} {'min':>8} {'max':>8} {'bytes':>8}")
    for r in rows:
        print(f"{r['page']!s:<48} {r['median_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['min_ms']:>8.1f} "
              f"{r['max_ms']:>8.1f} {r['bytes']:>8}")  # fmt: skip
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
