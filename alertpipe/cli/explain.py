"""``alertpipe explain REF``: one record, step by step."""

from __future__ import annotations

import json

import click

from alertpipe.cli.common import (
    EXIT_USAGE,
    bootstrap_or_exit,
    fail,
    schemas_or_exit,
    settings_or_exit,
)
from alertpipe.cli.reading import (
    TIME,
    TIME_HELP,
    ProgressBar,
    current_routes,
    current_windows,
    policy_or_exit,
    run_reading,
)
from alertpipe.cli.render import maintenance_text, message_type, route_text
from alertpipe.jobs.explain import ExplainJob, explain
from alertpipe.jobs.ranges import RangeUsageError, parse_ref
from processors.explain import Explanation, explanation_json
from processors.incidents import IncidentState
from processors.replay import iso_time
from schemas.normalized import ref_text

NAMED = {"raw": "raw record", "normalized": "normalized alert", "dead_letter": "dead letter"}


@click.command("explain")
@click.argument("ref")
@click.option(
    "--since",
    type=TIME,
    help=f"Start the incident replay here [default: the oldest record kept]. {TIME_HELP}.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object with every step.")
@click.option("--timeout", type=float, default=15.0, show_default=True, help="Seconds for Kafka.")
def explain_cmd(ref: str, since: int | None, as_json: bool, timeout: float) -> None:
    """Explain one record step by step.

    REF is TOPIC:PARTITION:OFFSET of a raw record, a normalized alert or a dead letter, as
    `tail`, `replay` and `dlq redrive` print it (a normalized alert or a dead letter leads
    back to its raw record).

    \b
      alertpipe explain alerts.dead-letter:0:17
      alertpipe explain alerts.normalized:3:1042 --json

    Prints the raw headers, the body (pretty), the schema verdict with every error and its
    JSON path, the mapped alert(s), the routing decision and the rule that matched, and the
    incident decision. The incident decision comes from replaying the raw record's partition
    (this org's records) up to the record, starting with no incident state at --since:
    events of the incident in other partitions (other routing keys), or before --since, are
    not seen, and routes are those in force now; the notes at the end say so."""
    try:
        record_ref = parse_ref(ref)
    except RangeUsageError as exc:
        fail(str(exc), EXIT_USAGE)
    settings = settings_or_exit()
    schemas = schemas_or_exit(settings)
    policy = policy_or_exit()
    bootstrap = bootstrap_or_exit(settings)
    bar = ProgressBar()

    async def run() -> Explanation:
        routes = await current_routes(bootstrap, settings.topics.routes, timeout)
        windows = await current_windows(bootstrap, settings.topics.maintenance, timeout)
        job = ExplainJob(
            bootstrap, settings.topics, record_ref, routes, schemas, policy, since, timeout,
            windows,
        )  # fmt: skip
        return await explain(job, bar)

    try:
        explanation = run_reading(run())
    finally:
        bar.close()
    if as_json:
        data = {"ref": str(record_ref), **explanation_json(explanation)}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for line in explanation_lines(str(record_ref), explanation):
            click.echo(line)


def heading(text: str) -> str:
    return click.style(text, bold=True)


def state_text(state: IncidentState | None) -> str:
    if state is None:
        return "no state"
    severity = f" {state.severity}" if state.severity else ""
    return (
        f"{state.status}{severity}, last transition {iso_time(state.last_transition)}, "
        f"{state.events} events, {state.suppressed} suppressed since the last emission"
    )


def explanation_lines(ref: str, e: Explanation) -> list[str]:
    raw = e.raw
    raw_ref = ref_text(raw.topic, raw.partition, raw.offset)
    title = NAMED[e.named] + ("" if e.named == "raw" else f" of raw record {raw_ref}")
    lines = [heading(f"{ref}  {title}"), f"received  {iso_time(e.timestamp)}", heading("headers")]
    for name, value in raw.headers:
        text = value.decode("utf-8", "replace")
        if name == "received_at" and text.isdigit():
            text += f" ({iso_time(int(text))})"
        lines.append(f"  {name:<14} {text}")
    if e.envelope_error:
        lines.append(click.style(f"  envelope: {e.envelope_error}", fg="red"))
    lines += [heading("body"), *("  " + line for line in e.body.splitlines())]
    lines += _verdict_lines(e)
    if e.recorded_error is not None:
        r = e.recorded_error
        lines.append(f"{heading('recorded')}  dead letter {r.code} at {r.path or '$'}: {r.message}")
    letter = e.result.dead_letter
    if letter is not None:
        lines.append(
            f"{heading('stage 1')}  "
            + click.style(f"dead letter {letter.code} at {letter.path or '$'}", fg="red")
            + f": {letter.message}"
        )
    for index, alert in enumerate(e.result.alerts):
        lines += [
            f"{heading(f'alert {index}')}  {message_type(alert.message_type).rstrip()} "
            f"{alert.entity_id} ({alert.entity_display_name})",
            f"  alert_id       {alert.alert_id}",
            f"  incident_key   {alert.incident_key}",
            f"  event_time     {iso_time(alert.event_time)}",
            f"  routing        requested {alert.routing.requested!r}: {alert.routing.reason}, "
            f"rule {alert.routing.rule or '(none matched)'}",
            f"                 {route_text(alert.routing, alert.routing_key)}",
        ]
    for step in e.steps:
        verdict = "emitted" if step.emitted else "suppressed"
        carried = f", carrying {step.duplicates_suppressed} suppressed" if step.emitted else ""
        lines += [
            f"{heading('incident')}  {step.incident_key}: {step.decision} -> {verdict}{carried}",
            f"  before         {state_text(step.before)}",
            f"  after          {state_text(step.after)}",
        ]
        if step.maintenance is not None:
            lines.append(f"  maintenance    {maintenance_text(step.maintenance)}")
    if e.delivered is not None:
        d = e.delivered
        lines.append(
            f"{heading('delivered')}  alert_id {d.get('alert_id')}, "
            f"duplicates_suppressed {d.get('duplicates_suppressed')}"
            + (f", maintenance {d['maintenance'].get('id')}" if d.get("maintenance") else "")
        )
    lines += [heading("notes"), *(f"  - {note}" for note in e.notes)]
    return lines


def _verdict_lines(e: Explanation) -> list[str]:
    v = e.verdict
    source = e.envelope.source if e.envelope else "?"
    if not v.checked:
        return [f"{heading('schema')}  not checked: {v.unchecked_because}"]
    where = f"{source} ({v.schema_file})"
    if not v.errors:
        return [f"{heading('schema')}  valid for {where}"]
    count = f"{len(v.errors)} error" + ("s" if len(v.errors) > 1 else "")
    out = [f"{heading('schema')}  " + click.style(f"invalid for {where}: {count}", fg="red")]
    out += [f"  {path:<24} {message}" for path, message in v.errors]
    return out
