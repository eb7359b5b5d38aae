"""*Dead letters*: counts by code and source over time, the list (newest first, 50 a page),
each one with its body, headers and every schema error with its JSON path, and a redrive
(`alertpipe dlq redrive`'s job) that always runs dry first: the real one is offered only on
the dry run's answer."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from alertpipe.console.charts import bar_chart
from alertpipe.console.context import PAGE_SIZE, checked_form, console_of
from alertpipe.console.deadletters import DeadLetterFilter
from alertpipe.jobs.explain import fetch_record
from alertpipe.jobs.ranges import RangeError, RangeRequest, RecordRef
from alertpipe.jobs.redrive import RedriveJob, RedriveReport, redrive_range
from kafkaio.admin import KafkaUnreachable
from processors.deadletter import read_dead_letter
from processors.explain import body_text, schema_verdict
from processors.redrive import Redriven
from schemas.normalized import ref_text
from schemas.raw import RawHeaders

HOURS = 24


class _Quiet:
    """The redrive job reports progress; the page shows the totals instead."""

    def start(self, total: int) -> None:
        pass

    def advance(self, records: int) -> None:
        pass


def _filter(values: Any) -> DeadLetterFilter:
    return DeadLetterFilter(
        values.get("code") or None, values.get("source") or None, values.get("org") or None
    )


async def dead_letters_page(request: Request) -> Response:
    console = console_of(request)
    index = console.view.dead
    wanted = _filter(request.query_params)
    raw_start = request.query_params.get("start", "0")
    start = int(raw_start) if raw_start.isdigit() else 0
    letters, total = index.page(wanted, start, PAGE_SIZE)
    now = int(time.time() * 1000)
    by_code = [
        (code, n, bar_chart(index.per_hour(now, HOURS, DeadLetterFilter(code=code)),
                            f"dead letters of code {code} per hour, last {HOURS} hours"))
        for code, n in index.codes.most_common()
    ]  # fmt: skip
    by_source = [
        (source, n, bar_chart(index.per_hour(now, HOURS, DeadLetterFilter(source=source)),
                              f"dead letters of {source} per hour, last {HOURS} hours"))
        for source, n in index.sources.most_common()
    ]  # fmt: skip
    params = {k: v for k, v in vars(wanted).items() if v}
    base = f"/dead-letters?{urlencode(params)}&" if params else "/dead-letters?"
    return console.page(
        request, "deadletters.html", letters=letters, total=total, start=start,
        size=PAGE_SIZE, base=base, wanted=wanted, by_code=by_code, by_source=by_source,
        all_total=len(index.letters), topic=console.kafka_settings.topics.dead_letter,
        hours=HOURS,
    )  # fmt: skip


async def dead_letter_page(request: Request) -> Response:
    console = console_of(request)
    topic = console.kafka_settings.topics.dead_letter
    partition, offset = int(request.path_params["partition"]), int(request.path_params["offset"])
    ref = RecordRef(topic, partition, offset)
    try:
        record = await fetch_record(console.kafka, ref, console.timeout)
    except (RangeError, KafkaUnreachable) as exc:
        return console.page(request, "deadletter.html", 404, ref=str(ref), error=str(exc))
    headers = list(record.headers or ())
    try:
        letter = read_dead_letter(headers)
    except ValueError as exc:
        return console.page(request, "deadletter.html", 422, ref=str(ref), error=str(exc))
    try:
        envelope: RawHeaders | None = RawHeaders.from_kafka(letter.headers)
    except ValueError:
        envelope = None
    body = record.value or b""
    verdict = schema_verdict(envelope, body, console.schemas())
    return console.page(
        request, "deadletter.html", ref=str(ref), error=None, partition=partition,
        offset=offset, letter=letter, verdict=verdict,
        headers=[(k, (v or b"").decode("utf-8", "replace")) for k, v in headers],
        body=body_text(body, envelope.content_type if envelope else ""), timestamp=record.timestamp,
        raw_ref=ref_text(letter.raw.topic, letter.raw.partition, letter.raw.offset),
    )  # fmt: skip


@dataclass(frozen=True)
class RedriveLine:
    ref: str
    recorded: str
    passes: bool
    outcome: str  # the alerts it gives, or the new error with its JSON path


def _line(origin: str, done: Redriven) -> RedriveLine:
    letter = done.result.dead_letter
    if letter is None:
        alerts = ", ".join(f"{a.message_type} {a.entity_id}" for a in done.result.alerts)
        return RedriveLine(origin, done.recorded.code, True, alerts)
    where = f"{letter.code} at {letter.path or '$'}: {letter.message}"
    return RedriveLine(origin, done.recorded.code, False, where)


async def redrive_action(request: Request) -> Response:
    """One dead letter (partition and offset given) or every one of a code and org; a dry run
    unless the form says ``dry_run=0`` (which only the dry run's answer offers)."""
    console = console_of(request)
    form = await checked_form(console, request)
    dry_run = form.get("dry_run") != "0"
    partition, offset = form.get("partition", ""), form.get("offset", "")
    if partition.isdigit() and offset.isdigit():
        wanted = RangeRequest(int(partition), int(offset), int(offset))
    else:
        wanted = RangeRequest()
    code, org = form.get("code") or None, form.get("org") or None
    job = RedriveJob(
        console.kafka, console.kafka_settings.topics, console.repartition,
        dict(console.view.routes.configs), console.schemas(), {code} if code else set(), org,
        console.timeout,
    )  # fmt: skip
    lines: list[RedriveLine] = []
    try:
        report: RedriveReport = await redrive_range(
            job, wanted, dry_run, lambda origin, done: lines.append(_line(origin, done)), _Quiet()
        )
    except (RangeError, KafkaUnreachable) as exc:
        return console.page(request, "redrive.html", 502, error=str(exc), form=form)
    topics = console.kafka_settings.topics
    return console.page(
        request, "redrive.html", error=None, dry_run=dry_run, lines=lines[:200],
        summary=report.lines(dry_run, topics, console.repartition), report=report,
        form={k: v for k, v in form.items() if k in ("partition", "offset", "code", "org")},
    )  # fmt: skip
