"""The VictorOps REST ("generic") mapping as it was written in Python before
schemas/sources/generic/mapping.yaml replaced it: the hand-written baseline of the
mapping-cost bench (bench/mapping_cost.py), checked to give the same drafts
(tests/bench/test_handwritten.py). Incident identity: ``entity_id`` from the body, else the
one the ingress generated and answered (raw header ``entity_id``)."""

from __future__ import annotations

from typing import Any, get_args

from processors.deadletter import MappingFailure
from processors.draft import (
    FIELD_LIMIT,
    STATE_MESSAGE_LIMIT,
    AlertDraft,
    MapContext,
    clip,
    epoch_ms,
    text_or_none,
)
from schemas.normalized import Annotation, MessageType

KNOWN: frozenset[str] = frozenset(get_args(MessageType))
ANNOTATION_KINDS = {"u": "url", "s": "note", "i": "image"}
MAPPED = {
    "message_type",
    "entity_id",
    "entity_display_name",
    "state_message",
    "monitoring_tool",
    "hostname",
    "host_name",
    "state_start_time",
    "timestamp",
}


def message_type_of(raw: str) -> MessageType:
    upper = raw.strip().upper()
    if upper == "OK":
        return "RECOVERY"
    return upper if upper in KNOWN else "INFO"  # type: ignore[return-value]


def map_event(data: dict[str, Any], ctx: MapContext) -> list[AlertDraft]:
    entity = data.get("entity_id")
    entity_id = entity if isinstance(entity, str) and entity.strip() else ctx.entity_id_header
    if not entity_id:
        raise MappingFailure("mapping", "no entity_id in the body and none from the ingress")
    raw_type = str(data["message_type"])
    message_type = message_type_of(raw_type)
    annotations, details, truncated = [], {}, []
    for key, value in data.items():
        if key.startswith("vo_annotate.") and key.count(".") >= 2:
            kind = ANNOTATION_KINDS.get(key.split(".")[1])
            if kind is not None:
                annotations.append(Annotation(kind, key.split(".", 2)[2], str(value)))  # type: ignore[arg-type]
                continue
        if key not in MAPPED:
            details[key] = value
    if message_type == "INFO" and raw_type.strip().upper() != "INFO":
        details["original_message_type"] = raw_type
    state = str(data.get("state_message") or "")
    display = data.get("entity_display_name")
    for name, value, limit in (
        ("state_message", state, STATE_MESSAGE_LIMIT),
        ("entity_display_name", display, FIELD_LIMIT),
    ):
        if isinstance(value, str) and len(value) > limit:
            truncated.append(name)
    if truncated:
        details["truncated_fields"] = truncated
    return [
        AlertDraft(
            message_type=message_type,
            entity_id=entity_id,
            entity_display_name=clip(str(display)) if display else entity_id,
            state_message=clip(state, STATE_MESSAGE_LIMIT),
            monitoring_tool=text_or_none(data.get("monitoring_tool")),
            hostname=text_or_none(data.get("hostname") or data.get("host_name")),
            event_time=epoch_ms(data.get("timestamp")) or epoch_ms(data.get("state_start_time")),
            annotations=tuple(annotations),
            details=details,
        )
    ]
