"""*Explain*: one record step by step, exactly as `alertpipe explain REF` prints it (the same
job and the same lines, without the terminal's colours)."""

from __future__ import annotations

import click
from starlette.requests import Request
from starlette.responses import Response

from alertpipe.cli.explain import explanation_lines
from alertpipe.console.context import console_of
from alertpipe.jobs.explain import ExplainJob, explain
from alertpipe.jobs.ranges import RangeError, RangeUsageError, parse_ref
from kafkaio.admin import KafkaUnreachable


async def explain_page(request: Request) -> Response:
    console = console_of(request)
    text = request.path_params["ref"]
    try:
        ref = parse_ref(text)
    except RangeUsageError as exc:
        return console.page(request, "explain.html", 400, ref=text, error=str(exc), lines=[])
    view = console.view
    job = ExplainJob(
        console.kafka, console.kafka_settings.topics, ref, dict(view.routes.configs),
        console.schemas(), console.policy, None, console.timeout, dict(view.windows.table.by_org),
    )  # fmt: skip
    try:
        explained = await explain(job)
    except (RangeError, KafkaUnreachable) as exc:
        return console.page(request, "explain.html", 404, ref=text, error=str(exc), lines=[])
    lines = [click.unstyle(line) for line in explanation_lines(str(ref), explained)]
    return console.page(request, "explain.html", ref=str(ref), lines=lines, error=None)
