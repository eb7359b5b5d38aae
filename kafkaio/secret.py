"""A setting that must never be printed: a SASL password, a private key's password."""

from __future__ import annotations

import hmac
from pathlib import Path


class Secret:
    """Shows as ``***`` in ``repr``, ``str`` and f-strings, so settings can be logged and
    printed whole; ``reveal()`` is the one way to the value, for the Kafka clients only.
    ``source`` is the file it was read from (a child process is then given the file, not the
    value)."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: Path | None = None) -> None:
        self._value = value
        self.source = source

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))
