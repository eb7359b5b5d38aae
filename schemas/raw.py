"""The raw record contract (brief §4): the request body verbatim, described by Kafka headers.

This is the one place that names the headers; the ingress writes them and the processors,
replay and explain read them through ``RawHeaders``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields

from schemas.records import record

HEADER_NAMES = (
    "source",
    "org",
    "key_id",
    "routing_key",
    "content_type",
    "received_at",
    "request_id",
    "remote_addr",
    "user_agent",
    "entity_id",
)


@record
class RawHeaders:
    """Headers of one ``alerts.raw`` record. ``routing_key`` is as received (may be empty or
    the literal ``$routing_key``); ``received_at`` is epoch milliseconds; ``entity_id`` is set
    only by the generic endpoint (the id the ingress answered)."""

    source: str
    org: str
    key_id: str
    routing_key: str
    content_type: str
    received_at: int
    request_id: str
    remote_addr: str
    user_agent: str
    entity_id: str | None = None

    def to_kafka(self) -> list[tuple[str, bytes]]:
        out = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out.append((f.name, str(value).encode()))
        return out

    @classmethod
    def from_kafka(cls, headers: Iterable[tuple[str, bytes]]) -> RawHeaders:
        """Decode headers; raises ValueError naming a missing or malformed header. A repeated
        header keeps its last value. (Once per raw record: the names are checked as one set
        operation and each value decoded once, with no intermediate dict of text.)"""
        found = dict(headers)
        if not found.keys() >= _REQUIRED:
            missing = [n for n in HEADER_NAMES if n != "entity_id" and n not in found]
            raise ValueError(f"raw record lacks headers: {', '.join(missing)}")
        received = found["received_at"].decode("utf-8", "replace")
        try:
            received_at = int(received)
        except ValueError:
            raise ValueError(f"received_at={received!r} is not epoch ms") from None
        entity_id = found.get("entity_id")
        return cls(
            found["source"].decode("utf-8", "replace"),
            found["org"].decode("utf-8", "replace"),
            found["key_id"].decode("utf-8", "replace"),
            found["routing_key"].decode("utf-8", "replace"),
            found["content_type"].decode("utf-8", "replace"),
            received_at,
            found["request_id"].decode("utf-8", "replace"),
            found["remote_addr"].decode("utf-8", "replace"),
            found["user_agent"].decode("utf-8", "replace"),
            None if entity_id is None else entity_id.decode("utf-8", "replace"),
        )


_REQUIRED = frozenset(HEADER_NAMES) - {"entity_id"}


def raw_record_key(org: str, routing_key: str) -> bytes:
    """Kafka key of a raw record: one org's routing key stays on one partition, in order.

    Routing keys are matched case-insensitively, so the key uses the lower-cased form.
    """
    return f"{org}/{routing_key.lower()}".encode()
