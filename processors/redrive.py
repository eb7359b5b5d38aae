"""Redrive: a dead letter through stage 1 again, after a schema or mapping fix. Pure.

The dead letter carries the raw body and the ingress's headers unchanged (so the original
``received_at`` and ``request_id``) and where the raw record is, so stage 1 gives the same
``alert_id``s a replay of that raw record gives. What passes goes to the stage-1 topic, where
the worker's stage 2 decides it like any alert; what fails goes back to the dead-letter topic
with the new error and a ``redrive.of`` header naming the dead letter it came from.

The stage-1 records are those the worker would have published (key = incident key, the
alert's bytes, its fingerprint header) plus a ``redriven`` header, which exempts them from
the at-least-once replay check (``processors.stage_two.Applied``); stage 2 decides them as
new alerts. Redriving one again
is caught by its fingerprint (``redelivery``), and consumers drop repeats by ``alert_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from processors.deadletter import DeadLetter, dead_letter_headers, read_dead_letter
from processors.pipeline import RawInput, StageOneResult, process_raw
from processors.routing import RoutingConfig
from processors.stage_one import alert_outputs
from processors.stage_two import REDRIVEN_HEADER
from processors.validate import SchemaSet
from schemas.normalized import RawRef

REDRIVE_HEADER = "redrive.of"  # on a dead letter that failed again: the one it came from

Record = tuple[bytes | None, bytes, list[tuple[str, bytes]]]  # key, value, headers


@dataclass(frozen=True)
class Redriven:
    raw: RawRef
    recorded: DeadLetter  # the error the worker recorded
    result: StageOneResult  # stage 1 now
    to_stage_one: tuple[Record, ...] = ()
    to_dead_letter: Record | None = None

    @property
    def passes(self) -> bool:
        return self.result.dead_letter is None


def redrive(
    key: bytes | None,
    value: bytes,
    headers: list[tuple[str, bytes]],
    origin: str,
    routes: Mapping[str, RoutingConfig],
    schemas: SchemaSet | None = None,
) -> Redriven:
    """One dead-letter record (``origin``: its ``topic:partition:offset``) through stage 1.
    Raises ValueError for a record that is not an alertpipe dead letter."""
    found = read_dead_letter(headers)
    raw = RawInput(value, found.headers, found.raw.topic, found.raw.partition, found.raw.offset)
    result = process_raw(raw, routes, schemas)
    if result.dead_letter is not None:
        again = dead_letter_headers(found.headers, result.dead_letter, found.raw)
        again.append((REDRIVE_HEADER, origin.encode()))
        return Redriven(found.raw, found.letter, result, to_dead_letter=(key, value, again))
    records = tuple(
        (out.key, out.value, [*out.headers, (REDRIVEN_HEADER, origin.encode())])
        for out in alert_outputs(result)
    )
    return Redriven(found.raw, found.letter, result, to_stage_one=records)
