"""Pingometer (brief §2): form or JSON ``monitor_id`` + ``monitor_status`` (0 down, 1 up).
Incident identity: the monitor id."""

from __future__ import annotations

from typing import Any

from processors.draft import STATE_MESSAGE_LIMIT, AlertDraft, MapContext, clip, text_or_none
from schemas.normalized import Annotation


def map_event(data: dict[str, Any], ctx: MapContext) -> list[AlertDraft]:
    monitor_id = str(data["monitor_id"]).strip()
    down = str(data["monitor_status"]) == "0"
    name = (
        text_or_none(data.get("monitor_name"))
        or text_or_none(data.get("hostname"))
        or text_or_none(data.get("url"))
        or f"Pingometer monitor {monitor_id}"
    )
    message = text_or_none(data.get("message"), STATE_MESSAGE_LIMIT)
    state = message or f"{name} is {'DOWN' if down else 'UP'}"
    url = data.get("url")
    return [
        AlertDraft(
            message_type="CRITICAL" if down else "RECOVERY",
            entity_id=f"pingometer:{monitor_id}",
            entity_display_name=clip(name),
            state_message=clip(state, STATE_MESSAGE_LIMIT),
            monitoring_tool="Pingometer",
            hostname=text_or_none(data.get("hostname")),
            annotations=(Annotation("url", "Monitored URL", url),)
            if isinstance(url, str) and url
            else (),
            details=dict(data),
        )
    ]
