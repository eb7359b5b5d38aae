"""Pingometer (brief §2): form or JSON ``monitor_id`` + ``monitor_status`` (0 down, 1 up).
Incident identity: the monitor id. Pingometer's VictorOps integration may post a VictorOps
REST body here instead (``message_type`` and no ``monitor_id``, as the schema tells them apart):
that one is mapped as the REST source maps it, Pingometer the tool when it names none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import Any

from processors.declarative import compile_mapping
from processors.draft import STATE_MESSAGE_LIMIT, AlertDraft, MapContext, clip, text_or_none
from schemas.normalized import Annotation
from schemas.registry import load_sources


@cache
def _victorops_rest() -> Callable[[dict[str, Any], MapContext], list[AlertDraft]]:
    rest = load_sources()["generic"].mapping
    assert rest is not None, "the VictorOps REST source is a mapping file"
    return compile_mapping(rest)


def map_event(data: dict[str, Any], ctx: MapContext) -> list[AlertDraft]:
    if "monitor_id" not in data and "message_type" in data:
        return [
            d if d.monitoring_tool else replace(d, monitoring_tool="Pingometer")
            for d in _victorops_rest()(data, ctx)
        ]
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
