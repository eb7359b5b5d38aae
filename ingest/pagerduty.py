"""What the ingress must know of a PagerDuty Events API v2 body to answer as PagerDuty does:
the integration key (``routing_key``), whether the event is valid, and which ``dedup_key``
to answer. Pure; the JSON Schema in ``schemas/sources/pagerduty/`` is what the worker checks.

Facts from PagerDuty's Events API v2 documentation: keys are 32 characters; ``event_action``
is trigger, acknowledge or resolve; a trigger needs ``payload.summary`` (at most 1,024
characters), ``payload.source`` and ``payload.severity`` (critical, error, warning, info);
``dedup_key`` is at most 255 characters, generated and answered when a trigger has none,
required for acknowledge and resolve. A change event needs ``payload.summary``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

KEY_LENGTH = 32
_KEY = re.compile(r"[0-9A-Za-z]{32}", re.ASCII)
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
DEDUP_KEY_LIMIT = 255
SUMMARY_LIMIT = 1024
INVALID = "invalid event"
INVALID_MESSAGE = "Event object is invalid"


@dataclass(frozen=True)
class PagerDutyEvent:
    """``key`` is None when the body names no usable key (``errors`` say why, and nothing can
    be recorded: the body is not authenticated). With a key, ``errors`` make an invalid event,
    recorded all the same and answered 400."""

    key: str | None
    errors: tuple[str, ...]
    dedup_key: str | None  # the one to answer; None for a change event
    # What the raw record's entity_id header carries: the dedup_key, or for a change event
    # (which has none) a generated id the mapping falls back on.
    entity_id: str | None = None


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _key_errors(parsed: dict[str, Any]) -> list[str]:
    key = parsed.get("routing_key")
    if not isinstance(key, str) or not key:
        return ["'routing_key' is missing or blank"]
    errors = []
    if len(key) != KEY_LENGTH:
        errors.append(f"Length of 'routing_key' is incorrect (should be {KEY_LENGTH} characters)")
    if not key.isascii() or not key.isalnum():
        errors.append("'routing_key' cannot contain non-alphanumeric characters.")
    return errors


def _payload_errors(payload: Any, change: bool) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object"]
    errors = []
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors.append("'payload.summary' is missing or blank")
    elif len(summary) > SUMMARY_LIMIT:
        errors.append(f"'payload.summary' is longer than {SUMMARY_LIMIT} characters")
    if change:
        return errors
    if not _text(payload.get("source")):
        errors.append("'payload.source' is missing or blank")
    if payload.get("severity") not in SEVERITIES:
        errors.append(f"'payload.severity' must be one of {', '.join(SEVERITIES)}")
    return errors


def _action_errors(parsed: dict[str, Any], dedup: Any) -> list[str]:
    action = parsed.get("event_action")
    if action not in ACTIONS:
        return [f"'event_action' must be one of {', '.join(ACTIONS)}"]
    errors = []
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > DEDUP_KEY_LIMIT):
        errors.append(f"'dedup_key' must be text of at most {DEDUP_KEY_LIMIT} characters")
    if action == "trigger":
        errors += _payload_errors(parsed.get("payload"), change=False)
    elif not _text(dedup):
        errors.append(f"'dedup_key' is required to {action} an alert")
    return errors


def read_event(body: bytes, change: bool, new_dedup_key: str) -> PagerDutyEvent:
    """``new_dedup_key`` is answered for a trigger without one (PagerDuty generates one)."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return PagerDutyEvent(None, ("Event is not valid JSON",), None)
    if not isinstance(parsed, dict):
        return PagerDutyEvent(None, ("Event must be a JSON object",), None)
    key_errors = _key_errors(parsed)
    if key_errors:
        return PagerDutyEvent(None, tuple(key_errors), None)
    key = str(parsed["routing_key"])
    if change:
        problems = tuple(_payload_errors(parsed.get("payload"), True))
        return PagerDutyEvent(key, problems, None, new_dedup_key)
    dedup = parsed.get("dedup_key")
    errors = _action_errors(parsed, dedup)
    answered = dedup if _text(dedup) and isinstance(dedup, str) else new_dedup_key
    answered = answered[:DEDUP_KEY_LIMIT]
    return PagerDutyEvent(key, tuple(errors), answered, answered)
