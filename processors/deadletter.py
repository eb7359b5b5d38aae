"""The dead-letter policy, in one place: which failures dead-letter a body, under which code,
and what the dead-letter record carries (brief §3).

The record keeps the raw body byte-for-byte and the original headers, and adds ``error.code``,
``error.message``, ``error.path`` (JSON path of the first schema error, or "") and
``raw.topic``/``raw.partition``/``raw.offset``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from schemas.errors import AlertpipeError
from schemas.normalized import RawRef
from schemas.records import record

ErrorCode = Literal[
    "invalid_envelope",  # raw record without the ingress's headers (not written by alertpipe)
    "unknown_source",  # no schema/mapping for the record's source
    "invalid_json",
    "invalid_form",
    "schema",
    "unknown_event_type",
    "mapping",  # a mapping raised: a bug or a body shape we did not foresee
]
MAX_MESSAGE = 1000


@record
class DeadLetter:
    code: ErrorCode
    message: str
    path: str = ""


class MappingFailure(AlertpipeError):
    """Raised by mappings for bodies they refuse on purpose (e.g. an unknown event type)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message


def from_exception(exc: BaseException) -> DeadLetter:
    """Any exception escaping a mapping becomes a ``mapping`` dead letter, never a crash."""
    if isinstance(exc, MappingFailure):
        return DeadLetter(exc.code, exc.message[:MAX_MESSAGE])
    return DeadLetter("mapping", f"{type(exc).__name__}: {exc}"[:MAX_MESSAGE])


def dead_letter_headers(
    original: list[tuple[str, bytes]], letter: DeadLetter, raw: RawRef
) -> list[tuple[str, bytes]]:
    """Original headers (minus any stale error/raw ones from an earlier redrive) plus ours."""
    kept = [(k, v) for k, v in original if not k.startswith(("error.", "raw."))]
    return [
        *kept,
        ("error.code", letter.code.encode()),
        ("error.message", letter.message.encode()),
        ("error.path", letter.path.encode()),
        ("raw.topic", raw.topic.encode()),
        ("raw.partition", str(raw.partition).encode()),
        ("raw.offset", str(raw.offset).encode()),
    ]


@dataclass(frozen=True)
class DeadLetterRecord:
    """A record of the dead-letter topic, read back: the original raw headers, the error the
    worker recorded, and where the raw record is."""

    headers: list[tuple[str, bytes]]
    letter: DeadLetter
    raw: RawRef


def read_dead_letter(headers: list[tuple[str, bytes]]) -> DeadLetterRecord:
    """The inverse of ``dead_letter_headers``; ValueError when the raw.* headers are missing
    (not a dead letter written by alertpipe)."""
    found = {k: v.decode("utf-8", "replace") for k, v in headers}
    try:
        raw = RawRef(found["raw.topic"], int(found["raw.partition"]), int(found["raw.offset"]))
    except (KeyError, ValueError):
        raise ValueError("no raw.topic/raw.partition/raw.offset headers") from None
    code = found.get("error.code", "mapping")
    letter = DeadLetter(
        code,  # type: ignore[arg-type]  # as recorded; a newer worker may know more codes
        found.get("error.message", ""),
        found.get("error.path", ""),
    )
    kept = [(k, v) for k, v in headers if not k.startswith(("error.", "raw.", "redrive."))]
    return DeadLetterRecord(kept, letter, raw)
