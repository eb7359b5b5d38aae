"""Building raw records the way the ingress writes them, and checking alerts against the
published normalized-alert schema (with the reference jsonschema implementation)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from processors.pipeline import RawInput, StageOneResult
from schemas.raw import RawHeaders

FIXTURES = Path(__file__).parents[1] / "fixtures"
SCHEMAS = Path(__file__).parents[2] / "schemas"
RECEIVED_AT = 1_742_240_600_000


def raw_input(
    source: str,
    body: bytes,
    *,
    content_type: str = "application/json",
    org: str = "acme",
    routing_key: str = "team-a",
    entity_id: str | None = None,
    offset: int = 7,
    received_at: int = RECEIVED_AT,
) -> RawInput:
    headers = RawHeaders(
        source=source,
        org=org,
        key_id="k000000000001",
        routing_key=routing_key,
        content_type=content_type,
        received_at=received_at,
        request_id="req-1",
        remote_addr="203.0.113.9",
        user_agent="test",
        entity_id=entity_id,
    )
    return RawInput(body, headers.to_kafka(), "alerts.raw", 2, offset)


def fixture(source: str, name: str) -> bytes:
    return (FIXTURES / source / name).read_bytes()


@cache
def alert_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / "normalized-alert.schema.json").read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def assert_valid_alerts(result: StageOneResult) -> list[dict[str, Any]]:
    """Every encoded alert conforms to the schema; returns them decoded."""
    decoded = [json.loads(b) for b in result.encoded]
    for alert in decoded:
        errors = sorted(alert_validator().iter_errors(alert), key=str)
        assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    return decoded


# A generic body as some senders write it: explicit nulls, which the built-in schema refuses
# at two paths; NULLS_FIX is the fixed schema that accepts them.
NULLS_BODY = b'{"message_type":"CRITICAL","entity_id":"disk/db1","timestamp":null,"hostname":null}'
NULLS_PATHS = ["$.timestamp", "$.hostname"]


def write_nulls_fix(directory: Path) -> Path:
    """Write the fixed generic schema (nulls accepted) into ``directory``; return its path."""
    schema = json.loads((SCHEMAS / "sources" / "generic" / "generic.schema.json").read_text())
    schema["properties"]["timestamp"]["type"].append("null")
    schema["properties"]["hostname"]["type"] = ["string", "null"]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "generic.schema.json"
    path.write_text(json.dumps(schema))
    return path


def source_sample(source: str, name: str) -> bytes:
    """A sample body shipped in a declarative source's folder (``samples/``)."""
    from schemas.registry import load_sources

    [path] = [p for p in load_sources()[source].samples if p.name == name]
    return path.read_bytes()


def decide_in_order(results: list[StageOneResult], now: int) -> list[tuple[str, bool, str]]:
    """Every alert of ``results``, in order, through stage 2 against the states the earlier
    ones left: (entity id, emitted, reason)."""
    from processors.incidents import IncidentPolicy, IncidentState
    from processors.stage_one import alert_outputs
    from processors.stage_two import decide_alert

    states: dict[bytes, IncidentState | None] = {}
    out = []
    for result in results:
        for alert, record in zip(result.alerts, alert_outputs(result), strict=True):
            assert record.key is not None
            decided = decide_alert(
                states.get(record.key), record.value, record.headers, now, IncidentPolicy()
            )
            states[record.key] = decided.state
            out.append((alert.entity_id, decided.decision.emit, decided.decision.reason))
    return out


class SourceUnderTest:
    """What a source's mapping tests say of its bodies: the valid alerts a body becomes (no
    dead letter), a sample of its folder by file name."""

    def __init__(self, source: str) -> None:
        self.source = source

    def alerts_of(self, body: bytes, **kwargs: Any) -> list[dict[str, Any]]:
        from processors.pipeline import process_raw

        result = process_raw(raw_input(self.source, body, **kwargs), {})
        assert result.dead_letter is None, result.dead_letter
        return assert_valid_alerts(result)

    def sample(self, name: str) -> bytes:
        return source_sample(self.source, name)
