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
        """Decode headers; raises ValueError naming a missing or malformed header."""
        found = {name: value.decode("utf-8", "replace") for name, value in headers}
        missing = [n for n in HEADER_NAMES if n != "entity_id" and n not in found]
        if missing:
            raise ValueError(f"raw record lacks headers: {', '.join(missing)}")
        try:
            received_at = int(found["received_at"])
        except ValueError:
            raise ValueError(f"received_at={found['received_at']!r} is not epoch ms") from None
        return cls(
            source=found["source"],
            org=found["org"],
            key_id=found["key_id"],
            routing_key=found["routing_key"],
            content_type=found["content_type"],
            received_at=received_at,
            request_id=found["request_id"],
            remote_addr=found["remote_addr"],
            user_agent=found["user_agent"],
            entity_id=found.get("entity_id"),
        )


def raw_record_key(org: str, routing_key: str) -> bytes:
    """Kafka key of a raw record: one org's routing key stays on one partition, in order.

    Routing keys are matched case-insensitively, so the key uses the lower-cased form.
    """
    return f"{org}/{routing_key.lower()}".encode()
