"""``alertpipe explain`` as one async job: fetch the named record, find its raw record, replay
the raw record's partition up to it, and build the ``processors.explain.Explanation``."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from alertpipe.jobs.rangereader import plan, range_consumer, raw_input_of, read_merged
from alertpipe.jobs.ranges import OffsetRange, RangeError, RangeRequest, RecordRef
from alertpipe.jobs.replay import Progress
from kafkaio.clients import KafkaTarget
from kafkaio.settings import TopicSettings
from processors.deadletter import read_dead_letter
from processors.explain import (
    Explanation,
    Named,
    ReplayWindow,
    body_text,
    decode_envelope,
    explained_steps,
    schema_verdict,
)
from processors.incidents import IncidentPolicy
from processors.maintenance import MaintenanceWindow
from processors.pipeline import RawInput, process_raw
from processors.replay import OutcomeFilter, Replayer, iso_time
from processors.routing import RoutingConfig
from processors.validate import SchemaSet


@dataclass(frozen=True)
class ExplainJob:
    kafka: KafkaTarget
    topics: TopicSettings
    ref: RecordRef
    routes: Mapping[str, RoutingConfig]
    schemas: SchemaSet
    policy: IncidentPolicy
    since_ms: int | None = None  # start of the incident replay; None: the oldest record kept
    timeout: float = 15.0
    # The maintenance windows by org, ended ones included (processors.maintenancestore).
    maintenance: Mapping[str, tuple[MaintenanceWindow, ...]] = field(default_factory=dict)


async def fetch_record(bootstrap: KafkaTarget, ref: RecordRef, timeout: float) -> Any:
    """The record at ``ref``; RangeError for an unknown topic or partition, or an offset that
    the topic does not hold (never written, or deleted by retention)."""
    async with range_consumer(bootstrap, timeout) as consumer:
        request = RangeRequest(ref.partition, ref.offset, ref.offset)
        ranges = await plan(consumer, bootstrap, ref.topic, request, timeout)
        records = read_merged(consumer, ref.topic, ranges, stall_s=timeout)
        async with contextlib.aclosing(records) as it:
            async for record in it:
                return record
    raise RangeError(f"{ref} holds no record (a gap in the topic)")


async def explain(job: ExplainJob, progress: Progress | None = None) -> Explanation:
    record = await fetch_record(job.kafka, job.ref, job.timeout)
    named, raw_ref, extra = _what_was_named(job, record)
    notes: list[str] = []
    if named == "raw":
        raw, timestamp, in_topic = raw_input_of(record), record.timestamp, True
    else:
        try:
            found = await fetch_record(job.kafka, raw_ref, job.timeout)
            raw, timestamp, in_topic = raw_input_of(found), found.timestamp, True
        except RangeError as exc:
            if named != "dead_letter":
                raise RangeError(f"the raw record of {job.ref} is gone: {exc}") from exc
            # the dead letter carries the body and headers byte for byte
            fallback = read_dead_letter(list(record.headers))
            raw = RawInput(record.value or b"", fallback.headers, *_fields(raw_ref))
            timestamp, in_topic = record.timestamp, False
            notes.append(f"raw record {raw_ref} is gone ({exc}); body from the dead letter")
    envelope, envelope_error = decode_envelope(raw)
    result = process_raw(raw, job.routes, job.schemas)
    out = Explanation(
        named=named,
        raw=raw,
        timestamp=timestamp,
        envelope=envelope,
        envelope_error=envelope_error,
        body=body_text(raw.value, envelope.content_type if envelope else ""),
        verdict=schema_verdict(envelope, raw.value, job.schemas),
        result=result,
        recorded_error=extra.get("recorded"),
        delivered=extra.get("delivered"),
        notes=notes,
    )
    if result.alerts and in_topic and envelope is not None:
        await _replay_partition(job, out, envelope.org, progress)
    out.notes.extend(_limits(job, out))
    return out


def _fields(ref: RecordRef) -> tuple[str, int, int]:
    return ref.topic, ref.partition, ref.offset


def _what_was_named(job: ExplainJob, record: Any) -> tuple[Named, RecordRef, dict[str, Any]]:
    if job.ref.topic == job.topics.raw:
        return "raw", job.ref, {}
    if job.ref.topic == job.topics.dead_letter:
        try:
            letter = read_dead_letter(list(record.headers))
        except ValueError as exc:
            raise RangeError(f"{job.ref} is not a dead letter written by alertpipe: {exc}") from exc
        raw = letter.raw
        return (
            "dead_letter",
            RecordRef(raw.topic, raw.partition, raw.offset),
            {"recorded": letter.letter},
        )
    try:
        alert = orjson.loads(record.value)
        raw = alert["raw"]
        ref = RecordRef(str(raw["topic"]), int(raw["partition"]), int(raw["offset"]))
    except (orjson.JSONDecodeError, TypeError, KeyError, ValueError):
        raise RangeError(
            f"{job.ref} is not a raw, normalized or dead-letter record (no raw reference)"
        ) from None
    return "normalized", ref, {"delivered": alert}


async def _replay_partition(
    job: ExplainJob,
    out: Explanation,
    org: str,
    progress: Progress | None,
) -> None:
    """The incident decision: the record's partition from ``since`` (or its oldest record)
    up to the record, this org's records only, then the record itself."""
    raw = out.raw
    replayer = Replayer(job.routes, job.policy, job.schemas, job.maintenance)
    wanted = OutcomeFilter(org=org)
    replayed = 0
    async with range_consumer(job.kafka, job.timeout) as consumer:
        request = RangeRequest(raw.partition, since_ms=job.since_ms)
        [whole] = await plan(consumer, job.kafka, raw.topic, request, job.timeout)
        window = OffsetRange(raw.partition, min(whole.start, raw.offset), raw.offset)
        if progress is not None:
            progress.start(window.size)
        records = read_merged(consumer, raw.topic, [window], stall_s=job.timeout)
        async with contextlib.aclosing(records) as it:
            async for record in it:
                if progress is not None:
                    progress.advance(1)
                if wanted.replays(list(record.headers)):
                    replayer.feed(raw_input_of(record), record.timestamp)
                    replayed += 1
    out.window = ReplayWindow(raw.topic, raw.partition, window.start, raw.offset, replayed)
    out.steps = explained_steps(replayer, raw, out.timestamp)


def _limits(job: ExplainJob, out: Explanation) -> list[str]:
    notes = ["routing: with the routes in force now, not those of when the record arrived"]
    if out.window is not None:
        w = out.window
        where = f"{w.topic} partition {w.partition}, offsets {w.start}-{w.end}"
        start = (
            f"from {iso_time(job.since_ms)} (--since)"
            if job.since_ms is not None
            else "from the oldest record kept"
        )
        notes.append(
            f"incident: replayed {where} ({start}; {w.records} earlier records of the org) "
            "with empty incident state at the start: if the incident began earlier, or got "
            "events under another routing key (another partition), the live decision may differ"
        )
    if out.delivered is not None and out.steps:
        step = next((s for s in out.steps if s.alert_id == out.delivered.get("alert_id")), None)
        if step is not None and not step.emitted:
            notes.append(
                f"the worker delivered this alert, but the replay suppressed it ({step.decision}):"
                " the replay window misses part of the incident's history"
            )
    notes += _maintenance_notes(job, out)
    if out.named == "dead_letter" and out.recorded_error is not None:
        verdict = "fails" if out.result.dead_letter else "passes"
        notes.append(
            f"the worker dead-lettered it ({out.recorded_error.code}); with the schemas in "
            f"force now it {verdict}"
        )
    return notes


def _maintenance_notes(job: ExplainJob, out: Explanation) -> list[str]:
    """Said only for an org that has maintenance windows, or an alert delivered with one."""
    delivered_with = out.delivered is not None and bool(out.delivered.get("maintenance"))
    if out.envelope is None or not (job.maintenance.get(out.envelope.org) or delivered_with):
        return []
    notes = [
        "maintenance: decided on the record's received_at with the windows stored now, ended "
        "ones included, as the live worker decided unless it was more than 2 s behind the "
        "maintenance topic or the window's record has been deleted since (90 days)"
    ]
    if out.delivered is not None:
        step = next((s for s in out.steps if s.alert_id == out.delivered.get("alert_id")), None)
        had = (out.delivered.get("maintenance") or {}).get("id")
        now = step.maintenance.id if step is not None and step.maintenance else None
        if step is not None and step.emitted and had != now:
            notes.append(
                f"the worker delivered this alert with maintenance {had or '(none)'}, the replay "
                f"gives {now or '(none)'}"
            )
    return notes
