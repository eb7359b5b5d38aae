"""``alertpipe incidents``: the incidents the workers hold now, read from their changelog."""

from __future__ import annotations

import json
import time
from typing import Any

import click
import orjson

from alertpipe.cli.common import (
    EXIT_FAILURE,
    bootstrap_or_exit,
    fail,
    settings_or_exit,
    worker_topics_or_exit,
)
from alertpipe.cli.group import CommandGroup
from alertpipe.cli.reading import (
    EXIT_INTERRUPTED,
    ProgressBar,
    policy_or_exit,
    run_reading,
    stop_on_ctrl_c,
)
from alertpipe.cli.render import cell, clip, message_type
from alertpipe.jobs.incidents import ChangelogRead, read_incidents
from processors.changelog import ChangelogFormatError, HeldIncident, IncidentFilter, current
from processors.incidents import IncidentPolicy
from processors.replay import iso_time

STATUS_COLOURS = {"open": "red", "acknowledged": "cyan", "resolved": "green"}
LIST_HEADER = (
    f"{'ORG':<12} {'ENTITY':<36} {'STATUS':<13} {'SEVERITY':<9} {'FIRST SEEN':<24} "
    f"{'LAST SEEN':<24} {'EVENTS':>6} {'SUPPR':>5}  OPENED BY"
)


@click.group(cls=CommandGroup)
def incidents() -> None:
    """The incidents the workers hold now (open, acknowledged, resolved and not yet forgotten),
    read from the worker's state changelog: no worker is asked, and the answer is what the
    workers committed last (at most a commit interval behind)."""


def read_or_exit(timeout: float) -> ChangelogRead:
    settings = settings_or_exit()
    bootstrap = bootstrap_or_exit(settings)
    changelog = worker_topics_or_exit(settings).changelog
    bar = ProgressBar()

    async def run() -> ChangelogRead:
        return await read_incidents(bootstrap, changelog, timeout, bar, stop_on_ctrl_c())

    try:
        read = run_reading(run())
    except ChangelogFormatError as exc:
        fail(f"cannot read {changelog} (a quixstreams layout this version does not know?): {exc}")
    finally:
        bar.close()
    if read.interrupted:
        fail("interrupted before the end of the changelog: nothing shown", EXIT_INTERRUPTED)
    return read


def incident_json(incident: HeldIncident, now: int, policy: IncidentPolicy) -> dict[str, Any]:
    s = incident.state
    return {
        "incident_key": incident.incident_key,
        "org": incident.org,
        "entity_id": incident.entity_id,
        "status": s.status,
        "severity": s.severity,
        "first_seen": s.first_seen,
        "last_seen": s.last_seen,
        "last_transition": s.last_transition,
        "events": s.events,
        "suppressed": s.suppressed,
        "opened_by": {"alert_id": s.opened_by, "source": s.source},
        "teams": list(s.teams),
        "fingerprints": list(s.fingerprints),
        "expires_at": incident.expires_at,
        "expired": incident.expired(now, policy),
        "changelog": {"partition": incident.partition, "offset": incident.offset},
    }


def opened_by_text(incident: HeldIncident) -> str:
    s = incident.state
    if s.opened_by is None:
        return "(not recorded: a state from before alertpipe kept it)"
    return f"{s.source} alert {s.opened_by}"


def list_line(incident: HeldIncident) -> str:
    s = incident.state
    status = cell(s.status, 13, fg=STATUS_COLOURS.get(s.status))
    opener = "-" if s.opened_by is None else f"{s.source} {s.opened_by}"
    return (
        f"{cell(incident.org, 12)} {cell(incident.entity_id, 36)} {status} "
        f"{message_type(s.severity or '-', 9)} {iso_time(s.first_seen):<24} "
        f"{iso_time(s.last_seen):<24} {s.events:>6} {s.suppressed:>5}  {opener}"
    )


@incidents.command("list")
@click.option("--org", help="Only this organisation's incidents.")
@click.option(
    "--status",
    type=click.Choice(["open", "acknowledged", "resolved"]),
    help="Only incidents in this state.",
)
@click.option("--source", help="Only incidents this source opened (as the state records it).")
@click.option(
    "--team",
    help="Only incidents whose latest alert was routed to this team (a state written before "
    "the worker recorded teams has none).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per incident.")
@click.option("--timeout", type=float, default=15.0, show_default=True, help="Seconds for Kafka.")
def list_cmd(
    org: str | None,
    status: str | None,
    source: str | None,
    team: str | None,
    as_json: bool,
    timeout: float,
) -> None:
    """List the incidents the workers hold now, by incident key: status, severity, first and
    last seen, events seen and duplicates suppressed since the last emission, and the alert
    that opened it. Incidents past their TTL (ALERTPIPE_RESOLVED_TTL_S, ALERTPIPE_OPEN_TTL_S)
    are not listed: the worker treats them as gone even before it deletes them.

    \b
      alertpipe incidents list --status open
      alertpipe incidents list --org acme --source thousandeyes --json
      alertpipe incidents list --team dba --status open

    Reads the worker group's changelog (ALERTPIPE_WORKER_GROUP) from its beginning to its
    end, committed transactions only; a summary goes to stderr."""
    policy = policy_or_exit()
    read = read_or_exit(timeout)
    now = int(time.time() * 1000)
    held = read.table.held()
    shown = current(held, now, policy, IncidentFilter(org, status, source, team))
    if not as_json and shown:
        click.echo(LIST_HEADER)
    for incident in shown:
        if as_json:
            click.echo(orjson.dumps(incident_json(incident, now, policy)).decode())
        else:
            click.echo(list_line(incident))
    expired = sum(1 for i in held if i.expired(now, policy))
    click.echo(
        f"{len(shown)} incidents shown; {len(held) - expired} held, {expired} expired and not "
        f"yet deleted; {read.total} changelog records read",
        err=True,
    )


@incidents.command("show")
@click.argument("org")
@click.argument("entity_id")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.option("--timeout", type=float, default=15.0, show_default=True, help="Seconds for Kafka.")
def show_cmd(org: str, entity_id: str, as_json: bool, timeout: float) -> None:
    """Show one incident's state, as the workers hold it now (exit 1 when they hold none).

    \b
      alertpipe incidents show acme thousandeyes:1234567
      alertpipe incidents show acme diskspace/db01.example.com --json"""
    policy = policy_or_exit()
    read = read_or_exit(timeout)
    now = int(time.time() * 1000)
    incident = read.table.get(org, entity_id)
    if incident is None:
        fail(f"no state held for {org}/{entity_id} (never seen, or forgotten)", EXIT_FAILURE)
    if as_json:
        click.echo(json.dumps(incident_json(incident, now, policy), indent=2, ensure_ascii=False))
        return
    for line in show_lines(incident, now, policy):
        click.echo(line)


def show_lines(incident: HeldIncident, now: int, policy: IncidentPolicy) -> list[str]:
    s = incident.state
    status = click.style(s.status, fg=STATUS_COLOURS.get(s.status), bold=True)
    expires = "never" if incident.expires_at is None else iso_time(incident.expires_at)
    lines = [
        click.style(incident.incident_key, bold=True),
        f"  status           {status}{f' {s.severity}' if s.severity else ''}",
        f"  opened by        {opened_by_text(incident)}",
        f"  teams            {', '.join(s.teams) or '(none recorded)'}",
        f"  first seen       {iso_time(s.first_seen)}",
        f"  last seen        {iso_time(s.last_seen)}",
        f"  last transition  {iso_time(s.last_transition)} (event time)",
        f"  events           {s.events} ({s.suppressed} suppressed since the last emission)",
        f"  fingerprints     {len(s.fingerprints)} kept (redeliveries of these are suppressed)",
        f"  storage expiry   {expires} (changelog partition {incident.partition}, "
        f"offset {incident.offset})",
    ]
    if incident.expired(now, policy):
        lines.append(
            click.style(
                "  expired: past its TTL, the worker treats it as gone (a new trigger opens a "
                "new incident)",
                fg="yellow",
            )
        )
    return [clip(line, 400) for line in lines]
