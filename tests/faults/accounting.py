"""Where every authenticated body went, checked against the same pure functions the worker
runs: each raw record either dead-letters or yields stage-1 alerts; each stage-1 alert, decided
in the order stage 2 saw it, is either emitted to alerts.normalized or suppressed (a counted
duplicate). Anything the reference expects and the topics lack is lost; an alert_id on the
delivery topic that the reference does not emit is unexpected."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from kafkaio.admin import connected_admin
from kafkaio.settings import TopicSettings
from kafkaio.worker_topics import internal_topics
from processors.incidents import IncidentState, decide
from processors.pipeline import RawInput, process_raw
from processors.stage_two import facts_of
from schemas.raw import RawHeaders
from tests.kafka_records import Record, value_of

Ref = tuple[int, int]  # raw partition, offset


async def topic_partitions(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    """Every partition of ``topics``, from the admin client (a consumer only knows the
    partitions of topics it has already fetched metadata for)."""
    async with connected_admin(bootstrap, 30.0) as admin:
        described = await admin.describe_topics(topics)
    return [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]


async def read_to_end(bootstrap: str, topic: str, timeout: float = 120) -> list[Record]:
    """Every record now in ``topic`` (all partitions, from the start to the end offsets)."""
    tps = await topic_partitions(bootstrap, [topic])
    consumer = AIOKafkaConsumer(
        isolation_level="read_committed", bootstrap_servers=bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    found: list[Record] = []
    try:
        async with asyncio.timeout(timeout):
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            while any([await consumer.position(tp) < end for tp, end in ends.items()]):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found.extend(records)
    finally:
        await consumer.stop()
    return found


async def committed_and_ends(
    bootstrap: str, group: str, topics: list[str]
) -> dict[TopicPartition, tuple[int | None, int]]:
    """Per partition of ``topics``: ``group``'s committed offset (None: none yet) and the end."""
    async with connected_admin(bootstrap, 15.0) as admin:
        committed = await admin.list_consumer_group_offsets(group)
    tps = await topic_partitions(bootstrap, topics)
    consumer = AIOKafkaConsumer(
        isolation_level="read_committed", bootstrap_servers=bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return {
        tp: (committed[tp].offset if tp in committed else None, end)
        for tp, end in sorted(ends.items())
    }


async def group_lag(bootstrap: str, group: str, topics: list[str]) -> int:
    """Records of ``topics`` after ``group``'s committed offsets, as a read_committed reader
    sees them: offsets alone overcount, since each transaction's commit marker takes one."""
    offsets = await committed_and_ends(bootstrap, group, topics)
    behind = {
        tp: committed or 0 for tp, (committed, end) in offsets.items() if end > (committed or 0)
    }
    if not behind:
        return 0
    consumer = AIOKafkaConsumer(
        isolation_level="read_committed", bootstrap_servers=bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    count = 0
    try:
        consumer.assign(list(behind))
        for tp, offset in behind.items():
            consumer.seek(tp, offset)
        ends = await consumer.end_offsets(list(behind))
        async with asyncio.timeout(60):
            while any([await consumer.position(tp) < end for tp, end in ends.items()]):
                batches = await consumer.getmany(timeout_ms=500)
                count += sum(len(records) for records in batches.values())
    finally:
        await consumer.stop()
    return count


def repartition_topic(topics: TopicSettings, group: str) -> str:
    """The worker group's repartition topic."""
    return internal_topics(group, topics.raw).repartition


def worker_topics(topics: TopicSettings, group: str) -> list[str]:
    """The topics a worker group consumes: the raw topic and its repartition topic."""
    return [topics.raw, repartition_topic(topics, group)]


async def wait_for_no_lag(
    bootstrap: str, group: str, topics: list[str], timeout: float
) -> tuple[int, float]:
    """Poll until the group's lag is 0; returns (last lag seen, seconds waited)."""
    started = time.monotonic()
    lag = -1
    while time.monotonic() - started < timeout:
        try:
            lag = await group_lag(bootstrap, group, topics)
        except Exception:  # the cluster may still be electing leaders: ask again
            lag = -1
        if lag == 0:
            break
        await asyncio.sleep(1.0)
    return lag, time.monotonic() - started


@dataclass
class Ledger:
    """The reference's verdict on one run, and what the topics hold."""

    raw: list[Record]
    by_request: dict[str, list[Ref]] = field(default_factory=dict)
    dead_expected: set[Ref] = field(default_factory=set)
    dead_found: set[Ref] = field(default_factory=set)
    stage1_expected: dict[str, Ref] = field(default_factory=dict)  # alert_id -> raw record
    alerts_of: dict[Ref, list[str]] = field(default_factory=dict)  # raw record -> alert_ids
    stage1_found: set[str] = field(default_factory=set)
    emitted: set[str] = field(default_factory=set)  # alert_ids the reference emits
    suppressed: set[str] = field(default_factory=set)
    delivered: Counter[str] = field(default_factory=Counter)  # alert_id -> times on the topic

    @property
    def lost(self) -> set[str]:
        """Expected outputs missing: dead letters, stage-1 alerts or emitted alerts."""
        missing = {f"dead:{p}/{o}" for p, o in self.dead_expected - self.dead_found}
        missing |= {f"stage1:{a}" for a in set(self.stage1_expected) - self.stage1_found}
        return missing | {f"alert:{a}" for a in self.emitted - set(self.delivered)}

    @property
    def unexpected(self) -> set[str]:
        return set(self.delivered) - self.emitted

    @property
    def repeated(self) -> int:
        return sum(n - 1 for n in self.delivered.values() if n > 1)

    def outcome(self, ref: Ref) -> str:
        """alert, duplicate or dead_letter for one raw record (several alerts: the first)."""
        if ref in self.dead_expected:
            return "dead_letter"
        ids = self.alerts_of.get(ref, [])
        return "alert" if any(a in self.emitted for a in ids) else "duplicate"

    def unaccounted(self, request_ids: list[str]) -> list[str]:
        """Request ids with no raw record, or whose record's outputs are not all there."""
        lost = self.lost
        bad = []
        for rid in request_ids:
            refs = self.by_request.get(rid)
            if not refs:
                bad.append(rid)
                continue
            for ref in refs:
                ids = self.alerts_of.get(ref, [])
                needed = {f"dead:{ref[0]}/{ref[1]}"} | {f"stage1:{a}" for a in ids}
                needed |= {f"alert:{a}" for a in ids if a in self.emitted}
                if needed & lost:
                    bad.append(rid)
        return bad


async def stage_two_inputs(
    bootstrap: str, topics: TopicSettings, group: str
) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    """The alerts stage 2 decided, in the order it decided them per incident key (under
    exactly-once a read_committed reader sees no aborted attempt; under at-least-once a
    repeat is decided again, like the worker did)."""
    records = await read_to_end(bootstrap, repartition_topic(topics, group))
    ordered = sorted(records, key=lambda r: (r.partition, r.offset))
    return [(r.key, value_of(r), list(r.headers)) for r in ordered if r.key is not None]


async def ledger(bootstrap: str, topics: TopicSettings, group: str) -> Ledger:
    raw = await read_to_end(bootstrap, topics.raw)
    book = Ledger(raw)
    for r in raw:
        ref = (r.partition, r.offset)
        with contextlib.suppress(ValueError):  # a record the ingress did not write
            book.by_request.setdefault(RawHeaders.from_kafka(r.headers).request_id, []).append(ref)
        raw_input = RawInput(value_of(r), list(r.headers), r.topic, r.partition, r.offset)
        result = process_raw(raw_input, {})
        if result.dead_letter is not None:
            book.dead_expected.add(ref)
        for produced in result.alerts:
            book.stage1_expected[produced.alert_id] = ref
            book.alerts_of.setdefault(ref, []).append(produced.alert_id)
    for d in await read_to_end(bootstrap, topics.dead_letter):
        dead_headers = dict(d.headers)
        book.dead_found.add((int(dead_headers["raw.partition"]), int(dead_headers["raw.offset"])))
    # Stage 2 as the worker saw it: the repartition topic, per partition in offset order.
    states: dict[bytes, IncidentState | None] = {}
    now = int(time.time() * 1000)
    for key, value, headers in await stage_two_inputs(bootstrap, topics, group):
        alert: dict[str, Any] = json.loads(value)
        book.stage1_found.add(alert["alert_id"])
        decision, states[key] = decide(states.get(key), facts_of(alert, headers), now)
        (book.emitted if decision.emit else book.suppressed).add(alert["alert_id"])
    book.suppressed -= book.emitted  # decided again after a crash: emitted once is what counts
    for n in await read_to_end(bootstrap, topics.normalized):
        book.delivered[json.loads(value_of(n))["alert_id"]] += 1
    return book


async def settled_ledger(
    bootstrap: str, topics: TopicSettings, group: str, want_request_ids: list[str], timeout: float
) -> Ledger:
    """Read until every wanted request is accounted for (or ``timeout``): the worker may
    still be catching up after a fault."""
    deadline = time.monotonic() + timeout
    while True:
        book = await ledger(bootstrap, topics, group)
        if not book.unaccounted(want_request_ids) and not book.lost:
            return book
        if time.monotonic() > deadline:
            return book
        await asyncio.sleep(3.0)
