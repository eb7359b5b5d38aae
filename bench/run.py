"""Run alertpipe's benchmarks (issue 7) and write bench-results/<UTC timestamp>.json, a markdown
table (printed) and a PNG beside the JSON.

Starts what it needs: a Kafka broker of its own (stopped afterwards) unless
KAFKA_BOOTSTRAP_SERVERS names a cluster, fresh topics per section, `alertpipe ingress` and
`alertpipe worker` processes on loopback, and load generators as separate processes. Every
speed comes with its ceiling measured in the same run, and each figure is the median of
--repeat repetitions with min and max: the machine is shared and noisy.

Sections, in run order:
  micro    validation (jsonschema-rs) and the whole pure stage 1, µs per body per source
  ingress  durable webhooks/s of one ingress vs the same app with a null sink; p50/p99; and
           a bare aiokafka producer sending the same records (the producer ceiling)
  worker   raw records/s through both stages on one worker, drained, in each processing
           guarantee, vs a bare aiokafka consume -> produce passthrough and vs a no-work
           quixstreams app of the worker's shape (bench.noop_app) in the same guarantee
           (20% repeats, 1% invalid, every source)
  e2e      POST -> normalized readable at a fixed offered rate, exactly-once then
           at-least-once, then one step higher at a time until p99 reaches the guarantee's
           target (250 / 100 ms): p50, p99, max
  state    restore of N incidents from the changelog with an empty data dir (vs a bare read
           of the changelog); start to ready; RSS
  replay   dry-run `alertpipe replay` records/s over a prefilled raw topic vs the pure core

Exit status: 0 when every section ran (targets missed are reported, not failures), 1 when a
section failed (its error is in the JSON and the table), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.e2e import measure_e2e
from bench.figures import result_document
from bench.ingress_ceiling import measure_ingress
from bench.plot import draw
from bench.profiles import PROFILES, Profile, parse_sections, with_repeat
from bench.replay import measure_replay
from bench.stack import kafka, log_dir, machine
from bench.stage1 import micro
from bench.state import measure_state
from bench.table import markdown
from bench.worker import measure_worker
from schemas.errors import AlertpipeError

RESULTS = Path("bench-results")


class Collected:
    """What the sections produced so far (figures, latency sets, micro rows, details)."""

    def __init__(self) -> None:
        self.figures: list[dict[str, Any]] = []
        self.latencies: list[dict[str, Any]] = []
        self.micro: list[dict[str, Any]] = []
        self.details: dict[str, Any] = {}
        self.errors: list[str] = []
        self.timings: dict[str, float] = {}


def run_section(name: str, collected: Collected, body: Callable[[], None]) -> None:
    print(f"== {name} ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        body()
    except Exception as exc:  # one failed section must not hide the others
        collected.errors.append(f"{name}: {exc}")
        collected.details.setdefault("tracebacks", {})[name] = traceback.format_exc()
        print(f"== {name} FAILED: {exc}", file=sys.stderr, flush=True)
    collected.timings[name] = round(time.monotonic() - started, 1)
    print(f"== {name} done in {collected.timings[name]} s", file=sys.stderr, flush=True)


def run_sections(profile: Profile, sections: tuple[str, ...], bootstrap: str) -> Collected:
    got = Collected()
    logs = log_dir()
    got.details["logs"] = str(logs)
    p = profile

    def ingress() -> None:
        figures, latencies, details = measure_ingress(
            bootstrap, p.ingress_requests, p.ingress_concurrency, p.repeat, logs
        )
        got.figures += figures
        got.latencies += latencies
        got.details.update(details)

    def worker() -> None:
        figures, details = measure_worker(
            bootstrap, p.worker_records, p.partitions, p.worker_repeat, logs
        )
        got.figures += figures
        got.details.update(details)

    def e2e() -> None:
        figures, latencies, details = measure_e2e(
            bootstrap,
            p.e2e_rate,
            p.e2e_seconds,
            p.e2e_repeat,
            p.e2e_step,
            p.e2e_max_steps,
            p.partitions,
            logs,
        )
        got.figures += figures
        got.latencies += latencies
        got.details.update(details)

    def state() -> None:
        figures, details = measure_state(
            bootstrap, p.state_incidents, p.state_repeat, p.partitions, logs
        )
        got.figures += figures
        got.details.update(details)

    def replay() -> None:
        figures, details = measure_replay(bootstrap, p.worker_records, p.partitions, p.repeat)
        got.figures += figures
        got.details.update(details)

    bodies = {"ingress": ingress, "worker": worker, "e2e": e2e, "state": state, "replay": replay}
    for name in sections:
        if name != "micro":
            run_section(name, got, bodies[name])
    return got


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, under 3 minutes")
    parser.add_argument("--only", metavar="SECTIONS", help="comma-separated sections to run")
    parser.add_argument("--repeat", type=int, help="repetitions of every figure (override)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    args = parser.parse_args(argv)
    try:
        sections = parse_sections(args.only)
    except ValueError as exc:
        parser.error(str(exc))
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    profile = with_repeat(PROFILES["quick" if args.quick else "full"], args.repeat)

    started_at = utc_now()
    box = machine()
    sizes = profile.sizes()
    print(f"bench: {profile.name} profile, sections {', '.join(sections)}; sizes {sizes}")
    collected = Collected()
    if "micro" in sections:
        run_section(
            "micro", collected, lambda: collected.micro.extend(micro(3, profile.micro_number))
        )
    if any(s != "micro" for s in sections):
        try:
            with kafka() as bootstrap:
                got = run_sections(profile, sections, bootstrap)
        except AlertpipeError as exc:  # a bench or its harness could not run
            print(f"error: {exc}", file=sys.stderr)
            return 1
        collected.figures += got.figures
        collected.latencies += got.latencies
        collected.details.update(got.details)
        collected.errors += got.errors
        collected.timings.update(got.timings)
    end = machine()
    doc = result_document(
        profile=profile.name,
        sizes=sizes,
        machine={
            "cores": box["cores"],
            "memory_gib": box["memory_gib"],
            "python": box["python"],
            "loadavg_start": box["loadavg"],
            "loadavg_end": end["loadavg"],
        },
        started_at=started_at.isoformat().replace("+00:00", "Z"),
        finished_at=utc_now().isoformat().replace("+00:00", "Z"),
        figures=collected.figures,
        latencies=collected.latencies,
        micro=collected.micro,
        details={**collected.details, "section_seconds": collected.timings},
        errors=collected.errors,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    json_path = args.out / f"{stamp}.json"
    json_path.write_text(json.dumps(doc, indent=1))
    png_path = draw(doc, args.out / f"{stamp}.png")
    print(markdown(doc))
    print(f"wrote {json_path} and {png_path}")
    return 1 if collected.errors else 0


if __name__ == "__main__":
    sys.exit(main())
