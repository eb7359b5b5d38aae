"""``alertpipe maintenance``: start, list and end maintenance windows.

A window marks the alerts it covers (``maintenance: {id, reason, until}`` in the delivered
alert) so paging can skip them; nothing is dropped. Semantics: ``processors.maintenance``
and docs/operations.md, "Maintenance windows"."""

from __future__ import annotations

import json
import time
import uuid

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
from alertpipe.timespec import TimeSpecError, parse_duration, parse_time
from ingest.keys import ORG_PATTERN
from processors.maintenance import (
    TAKES_EFFECT_MS,
    MaintenanceError,
    MaintenanceWindow,
    ended,
    new_window,
    window_json,
)
from processors.maintenancestore import publish_window, read_windows
from processors.replay import iso_time


def _now_ms() -> int:
    return int(time.time() * 1000)


def _scope(window: MaintenanceWindow) -> str:
    parts = [
        f"{name} {value}"
        for name, value in (
            ("routing key", window.routing_key),
            ("source", window.source),
            ("entity", window.entity_id),
        )
        if value is not None
    ]
    return ", ".join(parts) or "every alert"


def _state(window: MaintenanceWindow, now_ms: int) -> str:
    if window.end <= now_ms:
        return "ended" if window.ended_at is not None else "expired"
    if window.ended_at is not None:
        return "ending"
    return "active" if window.start <= now_ms else "upcoming"


def _until_ms(for_: str | None, until: str | None, now_ms: int) -> int:
    if (for_ is None) == (until is None):
        fail("give one of --for (e.g. 2h) or --until (a time)", EXIT_USAGE)
    try:
        if for_ is not None:
            return now_ms + TAKES_EFFECT_MS + parse_duration(for_)
        assert until is not None
        return parse_time(until, now_ms)
    except TimeSpecError as exc:
        fail(str(exc), EXIT_USAGE)


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
    if until is not None and for_ is None and _looks_like_length(until):
        fail(f"--until {until}: a time, not a length (use --for {until})", EXIT_USAGE)
    try:
        window = new_window(
            f"mw-{uuid.uuid4().hex[:12]}",
            org,
            now,
            _until_ms(for_, until, now),
            reason,
            routing_key,
            source,
            entity_id,
        )
    except MaintenanceError as exc:
        fail(str(exc), EXIT_USAGE)
    run_kafka(publish_window(bootstrap_or_exit(settings), settings.topics.maintenance, window))
    if as_json:
        click.echo(json.dumps(window_json(window), indent=2))
        return
    click.echo(
        f"{window.id}: {org}, {_scope(window)}, from {iso_time(window.start)} until "
        f"{iso_time(window.until)} ({window.reason})"
    )


def _looks_like_length(text: str) -> bool:
    try:
        parse_duration(text)
    except TimeSpecError:
        return False
    return True


@maintenance.command("list")
@click.option("--org", help="Only this organisation's windows.")
@click.option("--all", "show_all", is_flag=True, help="Ended and expired windows too.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per window.")
def list_cmd(org: str | None, show_all: bool, as_json: bool) -> None:
    """Show the active windows (with --all, the ended and expired ones kept too)."""
    settings = settings_or_exit()
    table = run_kafka(read_windows(bootstrap_or_exit(settings), settings.topics.maintenance))
    now = _now_ms()
    windows = sorted(
        (
            w
            for w in table.by_id.values()
            if (org is None or w.org == org)
            and (show_all or _state(w, now) not in ("ended", "expired"))
        ),
        key=lambda w: (w.start, w.id),
    )
    if as_json:
        for w in windows:
            click.echo(json.dumps({**window_json(w), "state": _state(w, now)}))
        return
    if not windows:
        click.echo("no maintenance windows" + ("" if show_all else " active (--all: ended too)"))
        return
    click.echo(f"{'ID':<16} {'ORG':<12} {'STATE':<8} {'START':<24} {'UNTIL':<24} SCOPE / REASON")
    for w in windows:
        click.echo(
            f"{w.id:<16} {w.org:<12} {_state(w, now):<8} {iso_time(w.start):<24} "
            f"{iso_time(w.end):<24} {_scope(w)}: {w.reason}"
        )


@maintenance.command("end")
@click.argument("window_id", metavar="ID")
def end_cmd(window_id: str) -> None:
    """End window ID now: alerts received from 2 s on are not marked (its record is kept,
    so replay, explain and `list --all` still show it)."""
    settings = settings_or_exit()
    bootstrap = bootstrap_or_exit(settings)
    table = run_kafka(read_windows(bootstrap, settings.topics.maintenance))
    window = table.by_id.get(window_id)
    if window is None:
        fail(f"no maintenance window {window_id!r} (see `alertpipe maintenance list --all`)")
    try:
        over = ended(window, _now_ms())
    except MaintenanceError as exc:
        fail(str(exc))
    run_kafka(publish_window(bootstrap, settings.topics.maintenance, over))
    click.echo(f"{over.id}: ends at {iso_time(over.end)} ({over.org}, {_scope(over)})")
