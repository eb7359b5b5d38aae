"""What the tests read from a consumed Kafka record.

aiokafka ships no type information (no ``py.typed``), so to mypy its ``ConsumerRecord`` and
everything ``getmany`` returns are ``Any``. :class:`Record` states the part of
``aiokafka.structs.ConsumerRecord[bytes, bytes]`` (no deserializers) that the tests use, with
that class's own field types, and :func:`value_of` narrows the value where a test needs bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Record(Protocol):
    """A record as an aiokafka consumer without deserializers returns it."""

    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...

    @property
    def timestamp(self) -> int: ...

    @property
    def key(self) -> bytes | None: ...

    @property
    def value(self) -> bytes | None: ...

    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


def value_of(record: Record) -> bytes:
    """``record``'s value, on topics where every record has one (no tombstones: the ingress
    and the worker always write a value)."""
    value = record.value
    assert value is not None, f"no value at {record.topic}/{record.partition}@{record.offset}"
    return value


def key_of(record: Record) -> bytes:
    """``record``'s key, on topics where every record has one (keyed by incident key)."""
    key = record.key
    assert key is not None, f"no key at {record.topic}/{record.partition}@{record.offset}"
    return key
