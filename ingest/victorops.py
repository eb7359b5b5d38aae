"""What the ingress must know of a VictorOps REST body to answer like VictorOps does: whether
``message_type`` is there, and which ``entity_id`` to answer. Pure."""

from __future__ import annotations

from dataclasses import dataclass

import orjson


@dataclass(frozen=True)
class GenericVerdict:
    entity_id: str
    # None: success. Otherwise the VictorOps-style failure message (the body is still recorded).
    failure: str | None


def check_generic_body(body: bytes, new_entity_id: str) -> GenericVerdict:
    """``new_entity_id`` is used when the body names none (VictorOps assigns a random one)."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return GenericVerdict(new_entity_id, "Invalid JSON body")
    if not isinstance(parsed, dict):
        return GenericVerdict(new_entity_id, "Body must be a JSON object")
    entity = parsed.get("entity_id")
    entity_id = entity if isinstance(entity, str) and entity.strip() else new_entity_id
    message_type = parsed.get("message_type")
    if not isinstance(message_type, str) or not message_type.strip():
        return GenericVerdict(entity_id, "Missing fields: message_type")
    return GenericVerdict(entity_id, None)
