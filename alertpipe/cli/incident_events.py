"""``alertpipe incidents ack|resolve``: an operator's event through the pipeline
(``alertpipe.jobs.operator_events``), shown before it is written."""

from __future__ import annotations

import getpass
import time

import click

from alertpipe.cli.common import bootstrap_or_exit, fail, schemas_or_exit, settings_or_exit
from alertpipe.cli.incidents import read_or_exit
from alertpipe.cli.reading import current_routes, policy_or_exit, run_reading
from alertpipe.cli.render import route_text
from alertpipe.jobs.operator_events import (
    MESSAGE_TYPES,
    OPERATOR_KEY_ID,
    Action,
    OperatorEvent,
    Preview,
    operator_event,
    preview,
    record_event,
)
from processors.changelog import HeldIncident
from processors.incidents import IncidentState
from processors.routing import RoutingConfig


def operator_command(action: Action) -> click.Command:
    """``incidents ack`` or ``incidents resolve``: the same command, one message type apart."""
    verb = "Acknowledge" if action == "ack" else "Resolve"

    @click.command(action)
    @click.argument("org")
    @click.argument("entity_id")
    @click.option("--by", metavar="NAME", help="Who (ack_author). [default: $USER]")
    @click.option("--message", "-m", metavar="M", help="Why (ack_msg and state_message).")
    @click.option(
        "--routing-key",
        default="",
        metavar="KEY",
        help="Route the emitted alert as this routing key. [default: the org's default route]",
    )
    @click.option("--yes", is_flag=True, help="Record it (without: show what it would do).")
    @click.option("--timeout", type=float, default=15.0, show_default=True, help="Seconds.")
    def command(
        org: str,
        entity_id: str,
        by: str | None,
        message: str | None,
        routing_key: str,
        yes: bool,
        timeout: float,
    ) -> None:
        settings = settings_or_exit()
        schemas = schemas_or_exit(settings)
        policy = policy_or_exit()
        bootstrap = bootstrap_or_exit(settings)
        read = read_or_exit(timeout)
        held = read.table.get(org, entity_id)
        now = int(time.time() * 1000)
        state = held.state if held is not None and not held.expired(now, policy) else None
        who = by or getpass.getuser()
        event = operator_event(action, org, entity_id, who, message, routing_key, now)

        async def routes() -> dict[str, RoutingConfig]:
            return await current_routes(bootstrap, settings.topics.routes, timeout)

        seen = preview(event, state, settings.topics.raw, run_reading(routes()), schemas, policy)
        for line in preview_lines(event, held, state, seen, settings.topics.raw):
            click.echo(line)
        if seen.decision is None:
            fail("stage 1 would refuse it: nothing recorded")
        if not yes:
            click.echo("nothing recorded: add --yes to record it", err=True)
            return
        partition, offset = run_reading(
            record_event(bootstrap, settings.topics.raw, event, timeout)
        )
        ref = f"{settings.topics.raw}:{partition}:{offset}"
        click.echo(f"recorded {ref} (request id {event.request_id}); `alertpipe explain {ref}`")

    command.help = (
        f"{verb} an incident by hand: write an operator's "
        f"{MESSAGE_TYPES[action]} for ORG ENTITY_ID to the raw topic, as the generic "
        "(VictorOps REST) source would receive it, for the worker to decide like any alert "
        "(emitted to the delivery topic, replayable, explainable). Shows what the worker "
        "would decide against the state it holds now; writes only with --yes.\n\n"
        f"\b\n  alertpipe incidents {action} acme diskspace/db01 -m 'on it'\n"
        f"  alertpipe incidents {action} acme diskspace/db01 -m 'on it' --yes"
    )
    return command


def preview_lines(
    event: OperatorEvent,
    held: HeldIncident | None,
    state: IncidentState | None,
    seen: Preview,
    raw_topic: str,
) -> list[str]:
    now = "no state held" if state is None else f"{state.status}"
    if state is not None and state.severity:
        now += f" {state.severity}"
    if held is not None and state is None:
        now = f"expired ({held.state.status}): the worker treats it as gone"
    lines = [
        f"incident   {event.org}/{event.entity_id}: {now}",
        f"record     {MESSAGE_TYPES[event.action]} by {event.by} to {raw_topic} "
        f"(source generic, key id {OPERATOR_KEY_ID})",
    ]
    if seen.decision is None:
        lines.append(f"stage 1    dead letter: {seen.dead_letter}")
        return lines
    alert = seen.alert or {}
    routing = alert.get("routing")
    route = route_text(routing, str(alert.get("routing_key") or "")) if routing else "-"
    decision = seen.decision
    verdict = "emitted" if decision.emit else "suppressed"
    lines += [f"route      {route}", f"decision   {verdict} ({decision.reason})"]
    return lines


ack = operator_command("ack")
resolve = operator_command("resolve")
