"""What a source mapping returns: alert drafts, before routing and ids are applied. Plus the
few helpers mappings share (length limits, time parsing). Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import field
from typing import Any

from schemas.normalized import Annotation, MessageType
from schemas.records import record

STATE_MESSAGE_LIMIT = 20_480
FIELD_LIMIT = 1_024


@record
class MapContext:
    received_at: int  # epoch ms, from the raw record
    # The entity id the ingress answered (generic endpoint), if any.
    entity_id_header: str | None = None


@record
class AlertDraft:
    message_type: MessageType
    entity_id: str  # without the org; native sources prefix it ("thousandeyes:...")
    entity_display_name: str
    state_message: str
    monitoring_tool: str | None = None
    hostname: str | None = None
    event_time: int | None = None  # epoch ms; None: use received_at
    annotations: tuple[Annotation, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    is_test: bool = False
    # The source's own id of this event, unique per event (redeliveries repeat it), if any.
    source_event_id: str | None = None


def clip(text: str, limit: int = FIELD_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_or_none(value: Any, limit: int = FIELD_LIMIT) -> str | None:
    if value is None or value == "":
        return None
    return clip(str(value), limit)


def epoch_ms(value: Any) -> int | None:
    """Epoch seconds (int, float or numeric string; milliseconds if it looks like ms) -> ms."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if number != number or number <= 0 or number > 1e14:  # NaN, non-positive, absurd
        return None
    return int(number if number > 1e11 else number * 1000)


_EPOCH = dt.datetime(1970, 1, 1)
_MS = dt.timedelta(milliseconds=1)
_FROM_ISO = dt.datetime.fromisoformat


def utc_text_ms(value: Any) -> int | None:
    """ "YYYY-MM-DD HH:MM:SS" (UTC, ThousandEyes' unzoned form) -> epoch ms. What strptime's
    "%Y-%m-%d %H:%M:%S" accepts; the zero-padded form (nearly every one) is read by
    ``fromisoformat``, at a twentieth of strptime's ~15 µs. With the separators where that
    form has them, ``fromisoformat`` reads exactly that form: it takes ASCII digits only at
    the other places, and range-checks as strptime does; whatever it refuses (a non-ASCII
    digit, a digit left out) goes to strptime."""
    if not isinstance(value, str):
        return None
    text = value.strip()[:19]
    if (
        len(text) == 19
        and text[10] == " "
        and text[4] == text[7] == "-"
        and text[13] == text[16] == ":"
    ):
        try:
            return (_FROM_ISO(text) - _EPOCH) // _MS
        except ValueError:
            pass  # strptime decides
    try:
        parsed = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return int(parsed.timestamp() * 1000)
