"""One readable line per replay outcome or tailed record, for a terminal. Colours are ANSI
codes from ``click.style``; ``click.echo`` drops them when the output is not a terminal."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click

from processors.maintenance import MaintenanceWindow
from processors.replay import Outcome, iso_time
from schemas.normalized import Routing, ref_text

TYPE_COLOURS = {
    "CRITICAL": "red",
    "WARNING": "yellow",
    "RECOVERY": "green",
    "ACKNOWLEDGEMENT": "cyan",
}
KIND_NAMES = {"alert": "alert", "suppressed": "suppressed", "dead_letter": "dead letter"}
KIND_COLOURS = {"alert": "green", "suppressed": "bright_black", "dead_letter": "red"}


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def cell(text: str, width: int, **style: Any) -> str:
    """``text`` clipped and padded to ``width`` columns, then styled (padding stays plain)."""
    clipped = clip(text, width)
    return (
        click.style(clipped, **style) + " " * (width - len(clipped))
        if style
        else (clipped.ljust(width))
    )


def message_type(value: str, width: int = 15) -> str:
    return cell(value, width, fg=TYPE_COLOURS.get(value))


def route_text(routing: dict[str, Any] | Routing, routing_key: str | None) -> str:
    """``ops -> night-shift``; ``(default: unknown) -> noc``; ``(no routes ...) -> nobody``."""
    data = routing if isinstance(routing, dict) else asdict(routing)
    teams = ", ".join(data.get("teams") or ()) or "nobody"
    reason = data.get("reason")
    if reason == "no_routes":
        return "(no routes for the org) -> nobody"
    rule = f" by rule {data['rule']}" if data.get("rule") else ""
    if routing_key:
        return f"{routing_key}{rule} -> {teams}"
    return f"(default: {reason}){rule} -> {teams}"


OUTCOME_HEADER = (
    f"{'TIME':<24} {'REF':<18} {'ORG':<12} {'SOURCE':<12} {'OUTCOME':<11} {'REASON':<16} "
    f"{'TYPE':<15} {'ENTITY':<32} ROUTE / ERROR"
)


def outcome_line(outcome: Outcome) -> str:
    org = outcome.envelope.org if outcome.envelope else "?"
    kind = outcome.kind
    reason = outcome.reason
    if kind == "alert" and outcome.duplicates_suppressed:
        reason += f" (+{outcome.duplicates_suppressed})"
    head = " ".join(
        [
            iso_time(outcome.timestamp).ljust(24),
            ref_text(outcome.raw.topic, outcome.raw.partition, outcome.raw.offset).ljust(18),
            cell(org, 12),
            cell(outcome.source, 12),
            cell(KIND_NAMES[kind], 11, fg=KIND_COLOURS[kind], bold=kind == "alert"),
            cell(reason, 16),
        ]
    )
    if outcome.alert is None:
        letter = outcome.dead_letter
        error = f"at {letter.path or '$'}: {letter.message}" if letter else ""
        return f"{head} {' ' * 48} {clip(error, 160)}"
    alert = outcome.alert
    route = route_text(alert.routing, alert.routing_key)
    line = (
        f"{head} {message_type(alert.message_type)} {cell(alert.entity_id, 32)} {route}"
        f"  {click.style(alert.alert_id, dim=True)}"
    )
    if outcome.maintenance is not None:
        line += "  " + click.style(f"maintenance {outcome.maintenance.id}", fg="magenta")
    return line


def maintenance_text(window: MaintenanceWindow) -> str:
    """``mw-1a2b3c4d until 2025-03-17T21:00:00.000Z (db upgrade)``, ended or not."""
    ended = f", ended {iso_time(window.end)}" if window.ended_at is not None else ""
    return f"{window.id} until {iso_time(window.until)}{ended} ({window.reason})"


def normalized_line(timestamp: int, ref: str, alert: dict[str, Any]) -> str:
    """tail normalized: time, record (for `explain`), org, message type, entity, routing key
    -> teams, and the maintenance window that covers it, if any."""
    route = route_text(alert.get("routing") or {}, alert.get("routing_key"))
    line = " ".join(
        [
            iso_time(timestamp).ljust(24),
            ref.ljust(24),
            cell(str(alert.get("org")), 12),
            message_type(str(alert.get("message_type"))),
            cell(str(alert.get("entity_id")), 40),
            route,
        ]
    )
    window = alert.get("maintenance")
    if isinstance(window, dict):
        line += "  " + click.style(f"maintenance {window.get('id')}", fg="magenta")
    return line


def dead_letter_line(timestamp: int, ref: str, headers: dict[str, str]) -> str:
    """tail dead-letter: time, record (for `explain`, which leads back to the raw record),
    org, source, error code, path and message."""
    error = f"at {headers.get('error.path') or '$'}: {headers.get('error.message', '')}"
    return " ".join(
        [
            iso_time(timestamp).ljust(24),
            ref.ljust(24),
            cell(headers.get("org", "?"), 12),
            cell(headers.get("source", "?"), 12),
            cell(headers.get("error.code", "?"), 18, fg="red"),
            clip(error, 160),
        ]
    )


def raw_line(timestamp: int, ref: str, headers: dict[str, str], size: int) -> str:
    """tail raw: time, record (for `explain`), org, source, routing key as received, request
    id, body size."""
    return " ".join(
        [
            iso_time(timestamp).ljust(24),
            ref.ljust(18),
            cell(headers.get("org", "?"), 12),
            cell(headers.get("source", "?"), 12),
            cell(headers.get("routing_key", "") or "(none)", 20),
            cell(headers.get("request_id", ""), 34),
            f"{size} bytes",
        ]
    )
