"""Stage 1 figures: validation and pipeline µs per body per source (in-process), and the
records the worker bench uses. `make bench-stage1` runs them with the worker bench
(`python -m bench.run --only micro,worker`)."""

from __future__ import annotations

import asyncio
import random
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

from kafkaio.clients import new_producer
from processors.incidents import IncidentPolicy
from processors.parse import parse_body
from processors.pipeline import RawInput, process_raw
from processors.stage_one import stage_one
from processors.stage_two import decide_alert
from processors.validate import validate
from schemas.raw import RawHeaders, raw_record_key
from schemas.registry import load_sources

FIXTURES = Path(__file__).parents[1] / "tests" / "fixtures"
FORM = "application/x-www-form-urlencoded"

POLICY = IncidentPolicy()


def fixture_files() -> list[tuple[str, Path, str]]:
    """(source, path, content type) of every sample body of every source."""
    out = []
    for source, info in sorted(load_sources().items()):
        for path in [*sorted((FIXTURES / source).glob("*")), *info.samples]:
            if path.suffix in (".json", ".form"):
                out.append((source, path, FORM if path.suffix == ".form" else "application/json"))
    return out


def samples() -> list[tuple[str, str, bytes, str]]:
    return [
        (source, path.name, path.read_bytes(), ctype) for source, path, ctype in fixture_files()
    ]


def headers_for(source: str, ctype: str, n: int) -> list[tuple[str, bytes]]:
    return RawHeaders(
        source=source,
        org="bench",
        key_id="kbench",
        routing_key=f"rk{n % 8}",
        content_type=ctype,
        received_at=int(time.time() * 1000),
        request_id=f"r{n}",
        remote_addr="127.0.0.1",
        user_agent="bench",
        entity_id=f"e{n}" if source == "generic" else None,
    ).to_kafka()


# Each figure's calls are timed in this many slices, the best slice counting: on a shared
# 2-core machine a long timing is nearly always interrupted by another process, a short one
# often is not (the same calls in all; the best of 3 timings of 5,000 calls varied by 2x).
SLICES = 5


def micro(repeat: int = 5, number: int = 20_000) -> list[dict[str, Any]]:
    """µs per call, best of ``repeat`` x SLICES timings of ``number`` / SLICES calls (the least
    disturbed one on a shared machine); the jsonschema oracle and the whole pipeline get fewer
    calls."""
    rows = []
    for source, name, body, ctype in samples():
        data = parse_body(body, ctype, load_sources()[source].embedded_json)
        oracle = jsonschema.Draft202012Validator(load_sources()[source].schema)
        raw = RawInput(body, headers_for(source, ctype, 1), "alerts.raw", 0, 1)

        def per_call(fn: Any, n: int) -> float:
            calls = max(1, n // SLICES)
            return min(timeit.repeat(fn, number=calls, repeat=repeat * SLICES)) / calls * 1e6

        # The lambdas run inside this iteration (timeit calls them at once): binding is safe.

        rows.append(
            {
                "source": source,
                "body": name,
                "bytes": len(body),
                "validate_us": round(per_call(lambda: validate(source, data), number), 2),  # noqa: B023
                "jsonschema_us": round(
                    per_call(lambda: list(oracle.iter_errors(data)), max(50, number // 40)),  # noqa: B023
                    1,
                ),
                "pipeline_us": round(per_call(lambda: process_raw(raw, {}), number // 4), 1),  # noqa: B023
                **stage_two_us(raw, lambda fn: round(per_call(fn, number // 4), 1)),
            }
        )
    return rows


def stage_two_us(raw: RawInput, timed: Callable[[Callable[[], Any]], float]) -> dict[str, Any]:
    """Stage 2 on the body's first alert, µs: with no state (it opens an incident or is
    emitted as is) and against the state that left (a repeat, suppressed: most records of a
    real stream). None for a body that is dead-lettered."""
    _, outputs = stage_one(raw, b"k", {}, None)
    alert = next((o for o in outputs if not o.dead_letter), None)
    if alert is None:
        return {"stage2_new_us": None, "stage2_repeat_us": None}
    value, headers, now = alert.value, alert.headers, int(time.time() * 1000)
    after = decide_alert(None, value, headers, now, POLICY).state
    return {
        "stage2_new_us": timed(lambda: decide_alert(None, value, headers, now, POLICY)),
        "stage2_repeat_us": timed(lambda: decide_alert(after, value, headers, now, POLICY)),
    }


def mixed_records(count: int, seed: int = 7) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    """Fixture bodies of every source; 20% exact repeats of an earlier body, 1% invalid."""
    rng = random.Random(seed)
    pool = samples()
    records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.01:
            source, body, ctype = (
                "thousandeyes",
                b'{"eventType": "ALERT_NOTIFICATION_TR',
                ("application/json"),
            )
        elif roll < 0.21 and records:
            records.append(records[rng.randrange(len(records))])
            continue
        else:
            source, _, body, ctype = rng.choice(pool)
        routing = f"rk{n % 8}"
        records.append((raw_record_key("bench", routing), body, headers_for(source, ctype, n)))
    return records


async def prefill(bootstrap: str, topic: str, records: list[Any]) -> None:
    producer = new_producer(
        bootstrap,
        acks="all",
        linger_ms=5,
        max_batch_size=512 * 1024,
        enable_idempotence=True,
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, value=v, key=k, headers=h) for k, v, h in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
