"""Starting, listing and ending maintenance windows (the operations behind ``alertpipe
maintenance`` and the console's Maintenance page). Semantics: ``processors.maintenance``."""

from __future__ import annotations

import uuid

from alertpipe.timespec import TimeSpecError, parse_duration, parse_time
from ingest.keys import ORG_PATTERN
from kafkaio.clients import KafkaTarget
from processors.maintenance import (
    TAKES_EFFECT_MS,
    MaintenanceError,
    MaintenanceWindow,
    ended,
    new_window,
)
from processors.maintenancestore import WindowTable, publish_window, read_windows


def scope_text(window: MaintenanceWindow) -> str:
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


def window_state(window: MaintenanceWindow, now_ms: int) -> str:
    """upcoming, active, ending (ended, not yet in force), ended or expired."""
    if window.end <= now_ms:
        return "ended" if window.ended_at is not None else "expired"
    if window.ended_at is not None:
        return "ending"
    return "active" if window.start <= now_ms else "upcoming"


def windows_shown(
    table: WindowTable, now_ms: int, org: str | None = None, show_all: bool = False
) -> list[MaintenanceWindow]:
    """The org's (or every) window, by start; without ``show_all`` not the ended or expired."""
    return sorted(
        (
            w
            for w in table.by_id.values()
            if (org is None or w.org == org)
            and (show_all or window_state(w, now_ms) not in ("ended", "expired"))
        ),
        key=lambda w: (w.start, w.id),
    )


def looks_like_length(text: str) -> bool:
    try:
        parse_duration(text)
    except TimeSpecError:
        return False
    return True


def until_ms(for_: str | None, until: str | None, now_ms: int) -> int:
    """The planned end from a length (``2h``: from when the window takes effect) or a time.
    MaintenanceError for neither, both, or text that is neither."""
    if (for_ is None) == (until is None):
        raise MaintenanceError("give one of --for (e.g. 2h) or --until (a time)")
    if for_ is None and until is not None and looks_like_length(until):
        raise MaintenanceError(f"--until {until}: a time, not a length (use --for {until})")
    try:
        if for_ is not None:
            return now_ms + TAKES_EFFECT_MS + parse_duration(for_)
        assert until is not None
        return parse_time(until, now_ms)
    except TimeSpecError as exc:
        raise MaintenanceError(str(exc)) from None


def plan_window(
    org: str,
    now_ms: int,
    until: int,
    reason: str,
    routing_key: str | None = None,
    source: str | None = None,
    entity_id: str | None = None,
) -> MaintenanceWindow:
    """A new window for ``org``, checked before anything is stored (``publish_window``
    stores it); MaintenanceError for a bad org or window."""
    if not ORG_PATTERN.match(org):
        raise MaintenanceError(f"org {org!r}: lower-case letters, digits, '-' and '_'")
    return new_window(
        f"mw-{uuid.uuid4().hex[:12]}", org, now_ms, until, reason, routing_key, source, entity_id
    )


class WindowNotFound(MaintenanceError):
    pass


async def end_window(
    kafka: KafkaTarget, topic: str, window_id: str, now_ms: int
) -> MaintenanceWindow:
    """End it now (its record is kept); WindowNotFound, or MaintenanceError when it is over."""
    table = await read_windows(kafka, topic)
    window = table.by_id.get(window_id)
    if window is None:
        raise WindowNotFound(
            f"no maintenance window {window_id!r} (see `alertpipe maintenance list --all`)"
        )
    over = ended(window, now_ms)
    await publish_window(kafka, topic, over)
    return over
