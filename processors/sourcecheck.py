"""One body through one source, for ``alertpipe sources lint|test``: parse, validate against
the source's schema, map with its mapping, normalize (no routes). Pure: the source, its
mapping and the body come in as arguments, so operator-supplied folders are checked the same
way as the built-in ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from processors.deadletter import DeadLetter, from_exception
from processors.draft import AlertDraft, MapContext
from processors.parse import parse_body
from processors.pipeline import normalize
from processors.validate import SchemaSet, validate
from schemas.normalized import RawRef, encode_alert
from schemas.raw import RawHeaders
from schemas.records import record
from schemas.registry import SourceInfo

Mapping = Callable[[dict[str, Any], MapContext], list[AlertDraft]]
CHECK_REF = RawRef("alerts.raw", 0, 0)


@record
class BodyCheck:
    alerts: tuple[bytes, ...] = ()  # the normalized alerts, encoded
    error: DeadLetter | None = None


def check_body(
    info: SourceInfo,
    mapping: Mapping,
    body: bytes,
    content_type: str,
    received_at: int,
    schemas: SchemaSet | None = None,
) -> BodyCheck:
    """``schemas``: a SchemaSet holding ``info`` (built from it when None)."""
    data = parse_body(body, content_type, info.embedded_json)
    if isinstance(data, DeadLetter):
        return BodyCheck(error=data)
    letter = validate(info.name, data, schemas or SchemaSet({info.name: info}))
    if letter is not None:
        return BodyCheck(error=letter)
    envelope = RawHeaders(
        info.name, "check", "check", "", content_type, received_at, "check", "", "", "check-id"
    )
    try:
        drafts = mapping(data, MapContext(received_at, entity_id_header="check-id"))
        alerts = [normalize(d, i, envelope, CHECK_REF, None) for i, d in enumerate(drafts)]
    except Exception as exc:  # what the worker would dead-letter
        return BodyCheck(error=from_exception(exc))
    return BodyCheck(tuple(encode_alert(a) for a in alerts))
