"""Maintenance windows, pure: which window (if any) covers an emitted alert.

A window belongs to one org and may narrow itself by routing key, source and entity id (all
that are given must match). It covers an alert when ``start <= received_at < end``: the
ingress's receipt time, carried by the alert, not the worker's clock. So the live worker,
``alertpipe replay`` and ``explain`` reach the same verdict from the same window records
(``end`` rewrites a window with ``ended_at`` rather than deleting it; ``until`` stays as
planned, so a replayed alert carries the very stamp delivered live). Nothing is suppressed:
the alert is delivered with ``maintenance: {id, reason, until}`` so paging can skip it
(Alertmanager's silences, VictorOps' maintenance mode, minus the dropping).

A change takes effect ``TAKES_EFFECT_MS`` after the command that makes it: every worker
follows the topic within about a second, so by then each one has it, and an alert received
after the change is decided live as a replay decides it later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from schemas.errors import UsageError
from schemas.normalized import with_maintenance
from schemas.records import record

# Longer windows are refused: the topic deletes a window's record this long after it was
# written (kafkaio.topics), so a window must end well before that, and ended windows stay
# visible to `list --all`, replay and explain for at least the raw topic's 7 days.
MAX_WINDOW_MS = 30 * 24 * 3_600_000
RETENTION_MS = 90 * 24 * 3_600_000
TAKES_EFFECT_MS = 2_000


class MaintenanceError(UsageError, ValueError):
    """A window that cannot be stored or a record of the topic that cannot be read."""


@record
class MaintenanceWindow:
    id: str
    org: str
    start: int  # epoch ms, inclusive
    until: int  # epoch ms, exclusive: the planned end, which the alerts carry
    reason: str
    routing_key: str | None = None  # lower case; matches the requested or resolved key
    source: str | None = None
    entity_id: str | None = None
    created_at: int = 0
    ended_at: int | None = None  # set by `alertpipe maintenance end`: the end in force

    @property
    def end(self) -> int:
        """When it stops covering alerts (exclusive): planned, or earlier by ``end``."""
        return self.until if self.ended_at is None else min(self.until, self.ended_at)

    def is_active(self, at_ms: int) -> bool:
        return self.start <= at_ms < self.end

    def matches(self, alert: Mapping[str, Any]) -> bool:
        """``alert``: the normalized alert as JSON data, of this window's org."""
        if self.source is not None and alert.get("source") != self.source:
            return False
        if self.entity_id is not None and alert.get("entity_id") != self.entity_id:
            return False
        if self.routing_key is None:
            return True
        requested = str((alert.get("routing") or {}).get("requested") or "").strip().lower()
        return self.routing_key in (requested, alert.get("routing_key"))

    def stamp(self) -> dict[str, Any]:
        """What the alert carries (schemas/normalized-alert.schema.json)."""
        return {"id": self.id, "reason": self.reason, "until": self.until}


def covering(
    windows: Iterable[MaintenanceWindow], alert: Mapping[str, Any]
) -> MaintenanceWindow | None:
    """The window that covers ``alert`` at its ``received_at``. Of several, the one that
    lasts longest (paging may skip the alert until then), then the earliest started, then
    the smallest id: the same choice in every process."""
    at = int(alert["received_at"])
    found = [w for w in windows if w.is_active(at) and w.matches(alert)]
    if not found:
        return None
    return min(found, key=lambda w: (-w.end, w.start, w.id))


def mark_emitted(
    emitted: bytes, incident_key: bytes, by_org: Mapping[str, tuple[MaintenanceWindow, ...]]
) -> tuple[bytes, MaintenanceWindow | None]:
    """``emitted`` (an alert as stage 2 delivers it) with the window that covers it, if any.
    An org without windows costs a dict lookup: the incident key starts with the org, so the
    alert is parsed only when its org has windows. Bytes of an uncovered alert are unchanged."""
    org = incident_key.split(b"/", 1)[0].decode("utf-8", "replace")
    windows = by_org.get(org)
    if not windows:
        return emitted, None
    window = covering(windows, orjson.loads(emitted))
    if window is None:
        return emitted, None
    return with_maintenance(emitted, window.stamp()), window


def group_by_org(windows: Iterable[MaintenanceWindow]) -> dict[str, tuple[MaintenanceWindow, ...]]:
    out: dict[str, list[MaintenanceWindow]] = {}
    for window in windows:
        out.setdefault(window.org, []).append(window)
    return {org: tuple(sorted(ws, key=lambda w: w.id)) for org, ws in out.items()}


def new_window(
    window_id: str,
    org: str,
    now_ms: int,
    until_ms: int,
    reason: str,
    routing_key: str | None = None,
    source: str | None = None,
    entity_id: str | None = None,
) -> MaintenanceWindow:
    """A window from ``TAKES_EFFECT_MS`` after ``now_ms`` until ``until_ms``;
    MaintenanceError when it cannot be kept."""
    start = now_ms + TAKES_EFFECT_MS
    if not reason.strip():
        raise MaintenanceError("give a --reason (paging tools show it)")
    if until_ms <= start:
        raise MaintenanceError("the window would end before it starts: --until must be later")
    if until_ms - start > MAX_WINDOW_MS:
        raise MaintenanceError("a window lasts at most 30 days (start another one after it)")
    key = routing_key.strip().lower() if routing_key is not None else None
    return MaintenanceWindow(
        window_id, org, start, until_ms, reason.strip(), key, source, entity_id, now_ms
    )


def ended(window: MaintenanceWindow, now_ms: int) -> MaintenanceWindow:
    """The window ended ``TAKES_EFFECT_MS`` after ``now_ms`` (or at its start, if later):
    its record is rewritten with ``ended_at``, so history stays and ``until`` is unchanged."""
    if window.ended_at is not None or window.until <= now_ms:
        raise MaintenanceError(f"maintenance window {window.id} is already over")
    return MaintenanceWindow(
        window.id,
        window.org,
        window.start,
        window.until,
        window.reason,
        window.routing_key,
        window.source,
        window.entity_id,
        window.created_at,
        max(now_ms + TAKES_EFFECT_MS, window.start),
    )


def window_json(window: MaintenanceWindow) -> dict[str, Any]:
    return {
        "id": window.id,
        "org": window.org,
        "start": window.start,
        "until": window.until,
        "reason": window.reason,
        "routing_key": window.routing_key,
        "source": window.source,
        "entity_id": window.entity_id,
        "created_at": window.created_at,
        "ended_at": window.ended_at,
    }


def encode_window(window: MaintenanceWindow) -> bytes:
    return orjson.dumps(window_json(window))


def decode_window(value: bytes) -> MaintenanceWindow:
    try:
        data = orjson.loads(value)
        return MaintenanceWindow(
            str(data["id"]),
            str(data["org"]),
            int(data["start"]),
            int(data["until"]),
            str(data["reason"]),
            _optional(data.get("routing_key")),
            _optional(data.get("source")),
            _optional(data.get("entity_id")),
            int(data.get("created_at") or 0),
            int(data["ended_at"]) if data.get("ended_at") is not None else None,
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise MaintenanceError(f"not a maintenance window record: {exc}") from None


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)
