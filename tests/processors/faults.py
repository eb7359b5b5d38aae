"""A harness for worker faults: a stream of raw records with repeats, worker processes to kill,
freeze and restart, and the reference of what a worker that never failed emits.

The reference is the replay core (``processors.replay``, what `alertpipe replay` runs): the
raw topic through the worker's own stage 1 and stage 2 functions. Each incident uses one routing
key, hence one raw partition, so its events have one order in every run."""

from __future__ import annotations

import asyncio
import heapq
import json
import random
import subprocess
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from alertpipe.children import stop_child
from alertpipe.harness import spawn
from alertpipe.jobs.rangereader import merge_key, raw_input_of
from kafkaio.admin import partition_count
from processors.incidents import IncidentPolicy
from processors.replay import Replayer
from schemas.normalized import RawRef, alert_id_for
from schemas.raw import RawHeaders, raw_record_key
from tests.faults.accounting import (
    committed_and_ends,
    read_to_end,
    repartition_topic,
    worker_topics,
)
from tests.kafka_records import Record, key_of, value_of

INCIDENTS = 1000
EVENTS = 21_000
KINDS = ["CRITICAL", "CRITICAL", "WARNING", "ACKNOWLEDGEMENT", "INFO", "RECOVERY", "RECOVERY"]


def make_events(seed: int) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    rng = random.Random(seed)
    start = int(time.time())  # recent: incident states must not be past their TTL
    clock = dict.fromkeys(range(INCIDENTS), start - 3600)
    last: dict[int, bytes] = {}
    out = []
    for n in range(EVENTS):
        k = rng.randrange(INCIDENTS)
        if k in last and rng.random() < 0.2:
            body = last[k]  # an exact repeat: a webhook retry
        else:
            clock[k] += rng.randrange(1, 60)
            body = json.dumps(
                {
                    "message_type": rng.choice(KINDS),
                    "entity_id": f"inc-{k}",
                    "timestamp": clock[k],
                    "seq": n,
                }
            ).encode()
            last[k] = body
        routing = f"rk{k % 7}"  # one incident, one routing key: one raw partition, in order
        headers = RawHeaders(
            source="generic",
            org="crash",
            key_id="kcrash",
            routing_key=routing,
            content_type="application/json",
            received_at=start * 1000 + n,
            request_id=f"r{n}",
            remote_addr="127.0.0.1",
            user_agent="crash",
            entity_id=None,
        ).to_kafka()
        out.append((raw_record_key("crash", routing), body, headers))
    return out


async def produce(bootstrap: str, topic: str, records: list[Any], seconds: float) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:
        chunk = 500
        for i in range(0, len(records), chunk):
            futures = [
                await producer.send(topic, value=v, key=k, headers=h)
                for k, v, h in records[i : i + chunk]
            ]
            await asyncio.gather(*futures)
            await asyncio.sleep(seconds * chunk / len(records))
    finally:
        await producer.stop()


def expected_emissions(raw_records: list[Record]) -> dict[str, int]:
    """What a worker that never failed emits (alert_id -> duplicates_suppressed): the replay core
    over the raw records, each partition in offset order, merged as `alertpipe replay` does."""
    partitions: dict[int, list[Record]] = defaultdict(list)
    for record in sorted(raw_records, key=lambda r: (r.partition, r.offset)):
        partitions[record.partition].append(record)
    replayer = Replayer({}, IncidentPolicy())
    return {
        outcome.alert.alert_id: outcome.duplicates_suppressed
        for record in heapq.merge(*partitions.values(), key=merge_key)
        for outcome in replayer.feed(raw_input_of(record), record.timestamp)
        if outcome.kind == "alert" and outcome.alert is not None
    }


def stop_worker(worker: subprocess.Popen[bytes] | None) -> None:
    if worker is not None:
        stop_child(worker)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return spawn("worker", ["worker"], env, log).popen


@dataclass
class Outcome:
    """The delivery topic against the reference."""

    raw: int
    expected: dict[str, int]
    seen: Counter[str]
    counts: dict[str, set[int]]  # alert_id -> the duplicates_suppressed values delivered

    @property
    def lost(self) -> set[str]:
        return set(self.expected) - set(self.seen)

    @property
    def unexpected(self) -> set[str]:
        return set(self.seen) - set(self.expected)

    @property
    def miscounted(self) -> set[str]:
        return {a for a, n in self.expected.items() if self.counts.get(a, {n}) != {n}}

    def summary(self, what: str) -> str:
        repeats = sum(n - 1 for n in self.seen.values() if n > 1)
        return (
            f"{what}: sent {self.raw} raw records; expected {len(self.expected)} emissions; "
            f"delivery topic holds {sum(self.seen.values())} records, {len(self.seen)} distinct "
            f"alert_ids, {repeats} repeats; lost {len(self.lost)}, unexpected "
            f"{len(self.unexpected)}, wrong duplicates_suppressed {len(self.miscounted)}"
        )


async def collect(bootstrap: str, topics: Any) -> Outcome:
    """The raw topic, and the delivery topic once every expected alert is there (or 240 s
    passed), plus a few seconds for repeats still in flight."""
    raw = await read_to_end(bootstrap, topics.raw)
    expected = expected_emissions(raw)
    seen: Counter[str] = Counter()
    counts: dict[str, set[int]] = {}

    def take(batch: list[Any]) -> None:
        for record in batch:
            alert = json.loads(record.value)
            seen[alert["alert_id"]] += 1
            counts.setdefault(alert["alert_id"], set()).add(alert["duplicates_suppressed"])

    consumer = AIOKafkaConsumer(
        topics.normalized,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 240
        while not expected.keys() <= seen.keys() and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                take(batch)
        await asyncio.sleep(3)
        for batch in (await consumer.getmany(timeout_ms=2000)).values():
            take(batch)
    finally:
        await consumer.stop()
    return Outcome(len(raw), expected, seen, counts)


class Watch:
    """End offsets of one topic, through one consumer kept open (a consumer stopped right
    after starting trips over its own cancelled tasks in aiokafka 0.14)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.consumer = AIOKafkaConsumer(
            isolation_level="read_committed", bootstrap_servers=bootstrap, group_id=None
        )
        self.partitions: list[TopicPartition] = []

    async def __aenter__(self) -> Watch:
        count = await partition_count(self.bootstrap, self.topic)
        self.partitions = [TopicPartition(self.topic, p) for p in range(count)]
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def ends(self) -> dict[int, int]:
        found = await self.consumer.end_offsets(self.partitions)
        return {tp.partition: offset for tp, offset in found.items()}

    async def total(self) -> int:
        return sum((await self.ends()).values())

    async def growth(self, since: int, timeout: float = 120) -> int:
        """Wait until the topic has grown past ``since`` (a worker is processing)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = await self.total()
            if now > since:
                return now
            await asyncio.sleep(0.2)
        raise AssertionError(f"no progress on {self.topic} within {timeout:.0f}s")


async def diagnose(bootstrap: str, topics: Any, group: str, lost: set[str]) -> str:
    """Where lost alerts went missing: stage 1 (not on the stage-1 topic: their raw records
    are named) or stage 2 (there, but never delivered), and each partition's committed offset
    against its end, per topic."""
    if not lost:
        return ""
    raw_of = {}
    for record in await read_to_end(bootstrap, topics.raw):
        alert_id = alert_id_for(RawRef(record.topic, record.partition, record.offset), 0)
        if alert_id in lost:
            raw_of[alert_id] = f"{record.partition}:{record.offset}"
    on_stage1: dict[str, str] = {}
    by_key: dict[bytes, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    stage_one = repartition_topic(topics, group)
    for record in await read_to_end(bootstrap, stage_one):
        if record.value:
            alert = json.loads(record.value)
            by_key[key_of(record)].append((record.offset, alert))
            if alert["alert_id"] in lost:
                on_stage1.setdefault(alert["alert_id"], f"{record.partition}:{record.offset}")
    delivered: Counter[str] = Counter(
        json.loads(value_of(r))["alert_id"] for r in await read_to_end(bootstrap, topics.normalized)
    )
    keys = {k for k, alerts in by_key.items() for _, a in alerts if a["alert_id"] in lost}
    timelines = [
        f"{key.decode()}: "
        + " ".join(
            f"{offset}:{a['raw']['offset']}:{a['message_type'][:4]}:{a['event_time'] % 100000}"
            f"{'*' if a['alert_id'] in lost else ''}x{delivered[a['alert_id']]}"
            for offset, a in alerts
        )
        for key, alerts in sorted(by_key.items())
        if key in keys
    ][:3]
    never = sorted(raw_of[a] for a in lost - on_stage1.keys() if a in raw_of)
    found = await committed_and_ends(bootstrap, group, worker_topics(topics, group))
    offsets = {f"{tp.topic}:{tp.partition}": pair for tp, pair in found.items()}
    return (
        f"lost {len(lost)}: {len(never)} never reached the stage-1 topic (raw partition:offset "
        f"{never[:10]}); {len(on_stage1)} did (stage-1 partition:offset "
        f"{sorted(on_stage1.values())[:10]}) but were not delivered; (committed, end) offsets "
        f"of group {group}: {offsets}\nstage-1 records of their incidents (stage-1 offset:"
        f"raw offset:type:event time, * lost, x times delivered):\n" + "\n".join(timelines)
    )
