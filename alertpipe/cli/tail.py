"""``alertpipe tail``: one readable line per record of a topic, optionally following it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import click
import orjson
from aiokafka import TopicPartition

from alertpipe.cli.common import bootstrap_or_exit, known_source_or_exit, settings_or_exit
from alertpipe.cli.reading import EXIT_INTERRUPTED, run_reading, stop_on_ctrl_c
from alertpipe.cli.render import dead_letter_line, normalized_line, raw_line
from alertpipe.jobs.rangereader import range_consumer, topic_partitions
from kafkaio.clients import KafkaTarget
from kafkaio.settings import TopicSettings
from processors.replay import iso_time
from schemas.normalized import ref_text

KINDS = ("normalized", "dead-letter", "raw")


def topic_of(kind: str, topics: TopicSettings) -> str:
    return {"normalized": topics.normalized, "dead-letter": topics.dead_letter}.get(
        kind, topics.raw
    )


def view(kind: str, record: Any) -> tuple[str | None, str | None, str, dict[str, Any]]:
    """(org, source, line, JSON object) of one record; never raises for odd records."""
    headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}
    ref = ref_text(record.topic, record.partition, record.offset)
    base = {"time": iso_time(record.timestamp), "ref": ref}
    if kind == "normalized":
        try:
            alert = orjson.loads(record.value or b"")
        except orjson.JSONDecodeError:
            alert = None
        if not isinstance(alert, dict):
            text = f"{iso_time(record.timestamp)} {ref}: not a normalized alert"
            return None, None, text, {**base, "error": "not a normalized alert"}
        line = normalized_line(record.timestamp, ref, alert)
        return alert.get("org"), alert.get("source"), line, {**base, "alert": alert}
    body = (record.value or b"").decode("utf-8", "replace")
    org, source = headers.get("org"), headers.get("source")
    if kind == "dead-letter":
        error = {k.removeprefix("error."): v for k, v in headers.items() if k.startswith("error.")}
        out = {**base, "raw_ref": _raw_ref(headers), "headers": headers, "error": error}
        return org, source, dead_letter_line(record.timestamp, ref, headers), {**out, "body": body}
    size = len(record.value or b"")
    line = raw_line(record.timestamp, ref, headers, size)
    return org, source, line, {**base, "headers": headers, "body": body}


def _raw_ref(headers: dict[str, str]) -> str | None:
    """The raw record a dead letter came from, from its raw.* headers."""
    topic, partition, offset = (headers.get(f"raw.{k}") for k in ("topic", "partition", "offset"))
    if topic and partition and partition.isdigit() and offset and offset.isdigit():
        return ref_text(topic, int(partition), int(offset))
    return None


@click.command()
@click.argument("kind", type=click.Choice(KINDS), default="normalized")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new records (Ctrl-C stops).")
@click.option("--from-beginning", is_flag=True, help="Start at the oldest record kept.")
@click.option(
    "-n",
    "--lines",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Without --from-beginning: start this many records before the end of each partition.",
)
@click.option("--org", help="Only this organisation.")
@click.option("--source", help="Only this source.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record.")
@click.option("--timeout", type=float, default=15.0, show_default=True, help="Seconds for Kafka.")
def tail(
    kind: str,
    follow: bool,
    from_beginning: bool,
    lines: int,
    org: str | None,
    source: str | None,
    as_json: bool,
    timeout: float,
) -> None:
    """Print the records of a topic, one line each.

    Each line starts with the record's time and its reference TOPIC:PARTITION:OFFSET (paste
    it into `alertpipe explain`), then for normalized alerts org, message type, entity and
    routing key -> teams; for dead letters org, source, error code and path; for raw records
    org, source, routing key as sent, request id and size. --json prints one object per
    record with the reference under "ref" (and a dead letter's raw record under "raw_ref").

    \b
      alertpipe tail -f                       # new alerts as they are delivered
      alertpipe tail dead-letter --from-beginning --org acme
      alertpipe tail raw -n 50 --json

    Colours on a terminal. Without --follow it stops at the end of the topic as it was at
    start; with --follow it waits for new records until Ctrl-C."""
    settings = settings_or_exit()
    known_source_or_exit(settings, source)
    bootstrap = bootstrap_or_exit(settings)
    topic = topic_of(kind, settings.topics)

    def show(record: Any) -> None:
        rec_org, rec_source, line, data = view(kind, record)
        if (org is not None and rec_org != org) or (source is not None and rec_source != source):
            return
        click.echo(orjson.dumps(data).decode() if as_json else line)

    interrupted = run_reading(
        follow_topic(bootstrap, topic, show, follow, from_beginning, lines, timeout)
    )
    if interrupted:
        raise SystemExit(EXIT_INTERRUPTED)


async def follow_topic(
    bootstrap: KafkaTarget,
    topic: str,
    show: Callable[[Any], None],
    follow: bool,
    from_beginning: bool,
    lines: int,
    timeout: float,
) -> bool:
    """Print from the chosen start; True when stopped by Ctrl-C."""
    stop = stop_on_ctrl_c()
    tps = await topic_partitions(bootstrap, topic, timeout)
    async with range_consumer(bootstrap, timeout) as consumer:
        async with asyncio.timeout(timeout):
            low = await consumer.beginning_offsets(tps)
            high = await consumer.end_offsets(tps)
        consumer.assign(tps)
        for tp in tps:
            start = low[tp] if from_beginning else max(low[tp], high[tp] - lines)
            consumer.seek(tp, start)
        if follow:
            click.echo(f"following {topic} (Ctrl-C stops)", err=True)
        while not stop.is_set():
            if not follow and await _reached(consumer, high):
                return False
            batch = await consumer.getmany(timeout_ms=500, max_records=500)
            records = [r for tp_records in batch.values() for r in tp_records]
            for record in sorted(records, key=lambda r: (r.timestamp, r.partition, r.offset)):
                if follow or record.offset < high[TopicPartition(topic, record.partition)]:
                    show(record)
            sys.stdout.flush()
    return True


async def _reached(consumer: Any, ends: dict[TopicPartition, int]) -> bool:
    return all([await consumer.position(tp) >= end for tp, end in ends.items()])
