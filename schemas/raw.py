"""The raw record contract (brief §4): the request body verbatim, described by Kafka headers.

This is the one place that names the headers; the ingress writes them and the processors,
replay and explain read them through ``RawHeaders``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
        header keeps its last value; bytes that are not UTF-8 are decoded with replacement
        characters. (Once per raw record: each value read by its name and decoded once,
        strictly first, by the method itself: ``decode()`` without arguments skips the codec
        lookup; a missing name, a null value, bytes that are not UTF-8 or a ``received_at``
        that is not a number take the slow path, which gives the same record or the same
        error.)"""
        found = dict(headers)
        entity_id = found.get("entity_id")
        try:  # positional, in field order; each value decoded where it is passed
            return cls(
                found["source"].decode(),
                found["org"].decode(),
                found["key_id"].decode(),
                found["routing_key"].decode(),
                found["content_type"].decode(),
                int(found["received_at"].decode()),
                found["request_id"].decode(),
                found["remote_addr"].decode(),
                found["user_agent"].decode(),
                None if entity_id is None else entity_id.decode(),
            )
        except (KeyError, AttributeError, ValueError):  # UnicodeDecodeError is a ValueError
            # which header is wrong, and how, in the order the checks name them
            return cls._checked(found)

    @classmethod
    def _checked(cls, found: dict[str, bytes]) -> RawHeaders:
        """The slow path: every name checked first, then the values decoded."""
        if not found.keys() >= _REQUIRED:
            missing = [n for n in HEADER_NAMES if n != "entity_id" and n not in found]
            raise ValueError(f"raw record lacks headers: {', '.join(missing)}")
        try:
            try:
                return cls._decoded(found, bytes.decode)
            except UnicodeDecodeError:
                return cls._decoded(found, _lenient)
        except TypeError:  # Kafka allows a header without a value (null)
            empty = [n for n in HEADER_NAMES if n in found and not isinstance(found[n], bytes)]
            raise ValueError(f"raw record headers without a value: {', '.join(empty)}") from None

    @classmethod
    def _decoded(cls, found: dict[str, bytes], text: Callable[[bytes], str]) -> RawHeaders:
        received = text(found["received_at"])
        try:
            received_at = int(received)
        except ValueError:
            raise ValueError(f"received_at={received!r} is not epoch ms") from None
        entity_id = found.get("entity_id")
        return cls(
            text(found["source"]),
            text(found["org"]),
            text(found["key_id"]),
            text(found["routing_key"]),
            text(found["content_type"]),
            received_at,
            text(found["request_id"]),
            text(found["remote_addr"]),
            text(found["user_agent"]),
            None if entity_id is None else text(entity_id),
        )


def _lenient(value: bytes) -> str:
    if type(value) is not bytes:  # a null header beside one that is not UTF-8: as bytes.decode
        raise TypeError("a header without a value")
    return value.decode("utf-8", "replace")


_REQUIRED = frozenset(HEADER_NAMES) - {"entity_id"}


def raw_record_key(org: str, routing_key: str) -> bytes:
    """Kafka key of a raw record: one org's routing key stays on one partition, in order.

    Routing keys are matched case-insensitively, so the key uses the lower-cased form.
    """
    return f"{org}/{routing_key.lower()}".encode()
