"""Stage 1 of one raw record: the records to publish, in order. Pure.

The worker's shell (``processors.worker.topology``) publishes each ``Output``: a dead letter to
the dead-letter topic, an alert to the repartition topic keyed by its incident key, where
stage 2 decides it. Replay and redrive build the same records through ``alert_outputs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from processors.deadletter import dead_letter_headers
from processors.pipeline import RawInput, StageOneResult, process_raw
from processors.routing import RoutingConfig
from processors.stage_two import stage_one_headers
from processors.validate import SchemaSet


class Output(NamedTuple):
    """One record to publish: an alert for stage 2, or (``dead_letter``) the dead letter.
    A tuple: quixstreams copies each one (pickle) where the dataflow branches, and a tuple
    copies in a third of a dataclass's time."""

    dead_letter: bool
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def alert_outputs(result: StageOneResult) -> list[Output]:
    """The stage-1 records of a raw record's alerts: key = incident key, the alert's bytes,
    its fingerprint header."""
    return [
        Output(False, alert.incident_key.encode(), encoded, stage_one_headers(print_))
        for alert, encoded, print_ in zip(
            result.alerts, result.encoded, result.fingerprints, strict=True
        )
    ]


def stage_one(
    raw: RawInput,
    key: bytes | None,
    routes: Mapping[str, RoutingConfig],
    schemas: SchemaSet | None,
) -> tuple[StageOneResult, list[Output]]:
    """``raw`` through ``process_raw``: its result and the records to publish (a dead letter
    keeps the raw record's key, body and headers and adds the error headers)."""
    result = process_raw(raw, routes, schemas)
    letter = result.dead_letter
    if letter is not None:
        headers = dead_letter_headers(raw.headers, letter, raw.ref)
        return result, [Output(True, key, raw.value, headers)]
    return result, alert_outputs(result)
