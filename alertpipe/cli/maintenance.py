"""``alertpipe maintenance``: start, list and end maintenance windows.

A window marks the alerts it covers (``maintenance: {id, reason, until}`` in the delivered
alert) so paging can skip them; nothing is dropped. Semantics: ``processors.maintenance``
and docs/operations.md, "Maintenance windows"."""

from __future__ import annotations

import json
import time

import click

from alertpipe.cli.common import (
    EXIT_USAGE,
    bootstrap_or_exit,
    fail,
    known_source_or_exit,
    settings_or_exit,
)
from alertpipe.cli.group import CommandGroup
from alertpipe.cli.integrations import run_kafka
from alertpipe.jobs.maintenance import (
    end_window,
    plan_window,
    scope_text,
    until_ms,
    window_state,
    windows_shown,
)
from ingest.keys import ORG_PATTERN
from processors.maintenance import MaintenanceError, window_json
from processors.maintenancestore import publish_window, read_windows
from processors.replay import iso_time


def _now_ms() -> int:
    return int(time.time() * 1000)


@click.group(cls=CommandGroup)
def maintenance() -> None:
    """Maintenance windows: alerts they cover are delivered marked, so paging can skip them.

    Windows are stored in Kafka and used by running workers for the next alert."""


@maintenance.command("start")
@click.option("--org", required=True, help="The organisation (required).")
@click.option("--routing-key", help="Only alerts with this routing key (as sent or resolved).")
@click.option("--source", help="Only alerts of this source.")
@click.option("--entity", "entity_id", help="Only alerts of this entity id.")
@click.option("--for", "for_", metavar="LENGTH", help="How long from now: 2h, 90m, 1d12h.")
@click.option("--until", metavar="TIME", help="When it ends: ISO 8601 (no zone: UTC).")
@click.option("--reason", required=True, help="Why (carried by every alert it covers).")
@click.option("--json", "as_json", is_flag=True, help="Print the stored window as JSON.")
def start_cmd(
    org: str,
    routing_key: str | None,
    source: str | None,
    entity_id: str | None,
    for_: str | None,
    until: str | None,
    reason: str,
    as_json: bool,
) -> None:
    """Start a window for the org's alerts (narrowed by every filter given), 2 s from now.

    \b
      alertpipe maintenance start --org acme --routing-key db --for 2h --reason "db upgrade"
      alertpipe maintenance start --org acme --entity web-3 --until 2025-03-17T22:00Z --reason x"""
    if not ORG_PATTERN.match(org):
        fail(f"org {org!r}: lower-case letters, digits, '-' and '_'", EXIT_USAGE)
    settings = settings_or_exit()
    known_source_or_exit(settings, source)
    now = _now_ms()
    try:
        until_at = until_ms(for_, until, now)
        window = plan_window(org, now, until_at, reason, routing_key, source, entity_id)
    except MaintenanceError as exc:
        fail(str(exc), EXIT_USAGE)
    run_kafka(publish_window(bootstrap_or_exit(settings), settings.topics.maintenance, window))
    if as_json:
        click.echo(json.dumps(window_json(window), indent=2))
        return
    click.echo(
        f"{window.id}: {org}, {scope_text(window)}, from {iso_time(window.start)} until "
        f"{iso_time(window.until)} ({window.reason})"
    )


@maintenance.command("list")
@click.option("--org", help="Only this organisation's windows.")
@click.option("--all", "show_all", is_flag=True, help="Ended and expired windows too.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per window.")
def list_cmd(org: str | None, show_all: bool, as_json: bool) -> None:
    """Show the active windows (with --all, the ended and expired ones kept too)."""
    settings = settings_or_exit()
    table = run_kafka(read_windows(bootstrap_or_exit(settings), settings.topics.maintenance))
    now = _now_ms()
    windows = windows_shown(table, now, org, show_all)
    if as_json:
        for w in windows:
            click.echo(json.dumps({**window_json(w), "state": window_state(w, now)}))
        return
    if not windows:
        click.echo("no maintenance windows" + ("" if show_all else " active (--all: ended too)"))
        return
    click.echo(f"{'ID':<16} {'ORG':<12} {'STATE':<8} {'START':<24} {'UNTIL':<24} SCOPE / REASON")
    for w in windows:
        click.echo(
            f"{w.id:<16} {w.org:<12} {window_state(w, now):<8} {iso_time(w.start):<24} "
            f"{iso_time(w.end):<24} {scope_text(w)}: {w.reason}"
        )


@maintenance.command("end")
@click.argument("window_id", metavar="ID")
def end_cmd(window_id: str) -> None:
    """End window ID now: alerts received from 2 s on are not marked (its record is kept,
    so replay, explain and `list --all` still show it)."""
    settings = settings_or_exit()
    bootstrap = bootstrap_or_exit(settings)
    try:
        over = run_kafka(end_window(bootstrap, settings.topics.maintenance, window_id, _now_ms()))
    except MaintenanceError as exc:
        fail(str(exc))
    click.echo(f"{over.id}: ends at {iso_time(over.end)} ({over.org}, {scope_text(over)})")
