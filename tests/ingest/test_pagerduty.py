"""PagerDuty Events API v2 through the in-process ingress: every answer PagerDuty gives, the
key from the body, the integration's routing key, and the dedup_key the worker will use."""

from __future__ import annotations

import json
from typing import Any

import httpx
import orjson
import pytest

from ingest.keys import Integration, hash_key, new_hex_key, new_key_id
from processors.pipeline import RawInput, process_raw
from schemas.raw import RawHeaders
from schemas.registry import load_sources
from tests.ingest.conftest import Ingress, make_app

JSON = {"content-type": "application/json"}
SOURCES = load_sources()
SAMPLES = [
    (name, path) for name in ("pagerduty", "pagerduty_change") for path in SOURCES[name].samples
]


def with_key(path: Any, key: str) -> bytes:
    body = json.loads(path.read_text())
    body["routing_key"] = key
    return json.dumps(body).encode()


def sample(source: str, name: str) -> Any:
    [path] = [p for p in SOURCES[source].samples if p.name == name]
    return path


@pytest.mark.parametrize(("source", "path"), SAMPLES, ids=[f"{s}/{p.name}" for s, p in SAMPLES])
async def test_every_sample_is_accepted_recorded_and_maps(
    ingress: Ingress, source: str, path: Any
) -> None:
    key = ingress.keys.enable("pagerduty", routing_key="db-team")
    body = with_key(path, key)
    response = await ingress.client.post(SOURCES[source].endpoint or "", content=body, headers=JSON)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["status"] == "success"
    [(topic, kafka_key, value, headers)] = ingress.sink.records
    assert (topic, kafka_key, value) == ("alerts.raw", b"acme/db-team", body)
    raw = RawHeaders.from_kafka(headers)
    assert (raw.source, raw.org, raw.routing_key) == (source, "acme", "db-team")
    assert all(key.encode() not in v for _, v in headers)  # the key is never in a header
    result = process_raw(RawInput(value, headers, "alerts.raw", 0, 1), {})
    assert result.dead_letter is None, result.dead_letter
    [alert] = result.alerts
    if source == "pagerduty":
        assert answer["message"] == "Event processed"
        # the dedup_key answered is the incident the worker uses
        assert alert.entity_id == f"pagerduty:{answer['dedup_key']}"
    else:
        assert answer == {"status": "success", "message": "Change event processed"}
        assert alert.message_type == "INFO"


async def test_a_generated_dedup_key_is_answered_recorded_and_used(ingress: Ingress) -> None:
    key = ingress.keys.enable("pagerduty")
    body = with_key(sample("pagerduty", "trigger-without-dedup-key.json"), key)
    response = await ingress.client.post("/v2/enqueue", content=body, headers=JSON)
    assert response.status_code == 202
    dedup_key = response.json()["dedup_key"]
    assert dedup_key
    [(_, kafka_key, value, headers)] = ingress.sink.records
    assert kafka_key == b"acme/"  # no routing key on the integration: the default route
    assert RawHeaders.from_kafka(headers).entity_id == dedup_key
    [alert] = process_raw(RawInput(value, headers, "alerts.raw", 0, 1), {}).alerts
    assert (alert.entity_id, alert.message_type) == (f"pagerduty:{dedup_key}", "WARNING")
    resolve = {"routing_key": key, "event_action": "resolve", "dedup_key": dedup_key}
    again = await ingress.client.post("/v2/enqueue", json=resolve)
    assert again.json()["dedup_key"] == dedup_key
    _, _, value, headers = ingress.sink.records[-1]
    [closed] = process_raw(RawInput(value, headers, "alerts.raw", 0, 2), {}).alerts
    assert (closed.incident_key, closed.message_type) == (alert.incident_key, "RECOVERY")


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({"event_action": "trigger"}, "'payload' is missing or not an object"),
        ({"event_action": "snooze", "dedup_key": "x"}, "'event_action' must be one of"),
        ({"event_action": "resolve"}, "'dedup_key' is required to resolve an alert"),
        (
            {
                "event_action": "trigger",
                "payload": {"summary": "s", "source": "h", "severity": "x"},
            },
            "'payload.severity' must be one of critical, error, warning, info",
        ),
    ],
)
async def test_an_invalid_event_is_400_and_still_recorded(
    ingress: Ingress, event: dict[str, Any], error: str
) -> None:
    key = ingress.keys.enable("pagerduty")
    response = await ingress.client.post("/v2/enqueue", json={"routing_key": key, **event})
    assert response.status_code == 400
    answer = response.json()
    assert (answer["status"], answer["message"]) == ("invalid event", "Event object is invalid")
    assert any(e.startswith(error) for e in answer["errors"]), answer
    [(_, _, value, headers)] = ingress.sink.records  # recorded raw: never dropped silently
    assert orjson.loads(value)["routing_key"] == key
    letter = process_raw(RawInput(value, headers, "alerts.raw", 0, 1), {}).dead_letter
    assert letter is not None
    assert letter.code == "schema"


@pytest.mark.parametrize(
    "body",
    [
        b'{"routing_key": "0123456789abcdef0123456789abcdef", "event_action": "trigger"}',
        b'{"routing_key": "0123456789abcdef0123456789abcdef"}',
    ],
)
async def test_an_unknown_or_revoked_key_is_400_invalid_routing_key_nothing_written(
    ingress: Ingress, body: bytes
) -> None:
    for path in ("/v2/enqueue", "/v2/change/enqueue"):
        response = await ingress.client.post(path, content=body, headers=JSON)
        assert response.status_code == 400
        assert response.text == "Invalid routing key"  # what PagerDuty answers
    other_key = new_hex_key()  # a key of another source is unknown here
    ingress.keys.table.apply(Integration(new_key_id(), "acme", "generic", hash_key(other_key), 1))
    other = body.replace(b"0123456789abcdef0123456789abcdef", other_key.encode())
    response = await ingress.client.post("/v2/enqueue", content=other, headers=JSON)
    assert response.text == "Invalid routing key"
    assert ingress.sink.records == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"event_action": "trigger"}', "'routing_key' is missing or blank"),
        (b'{"routing_key": "short"}', "Length of 'routing_key' is incorrect"),
        (b"not json", "Event is not valid JSON"),
        (b"[1]", "Event must be a JSON object"),
    ],
)
async def test_no_usable_key_is_400_invalid_event_nothing_written(
    ingress: Ingress, body: bytes, error: str
) -> None:
    response = await ingress.client.post("/v2/enqueue", content=body, headers=JSON)
    assert response.status_code == 400
    assert response.json()["status"] == "invalid event"
    assert response.json()["errors"][0].startswith(error)
    assert ingress.sink.records == []


async def test_over_512_kb_is_413_declared_or_streamed(ingress: Ingress) -> None:
    key = ingress.keys.enable("pagerduty")
    big = json.dumps({"routing_key": key, "event_action": "trigger", "x": "a" * 524_288})
    response = await ingress.client.post("/v2/enqueue", content=big.encode(), headers=JSON)
    assert response.status_code == 413
    assert response.json()["status"] == "invalid event"

    async def chunks() -> Any:
        yield big[:1000].encode()
        yield big[1000:].encode()

    streamed = await ingress.client.post("/v2/enqueue", content=chunks(), headers=JSON)
    assert streamed.status_code == 413
    assert ingress.sink.records == []


async def test_rate_limit_is_429_with_retry_after() -> None:
    app, sink, keys = make_app(rate_limit_per_s=1.0, rate_limit_burst=2)
    key = keys.enable("pagerduty")
    resolve = {"routing_key": key, "event_action": "resolve", "dedup_key": "a"}
    change = {"routing_key": key, "payload": {"summary": "deployed"}}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://i") as c:
        codes = [
            await c.post("/v2/enqueue", json=resolve),
            await c.post("/v2/change/enqueue", json=change),  # the same key, the same bucket
            await c.post("/v2/enqueue", json=resolve),
        ]
    assert [r.status_code for r in codes] == [202, 202, 429]
    assert int(codes[-1].headers["retry-after"]) >= 1
    assert codes[-1].json()["status"] == "throttle event"
    assert len(sink.records) == 2


async def test_other_content_types_are_415_and_other_methods_405(ingress: Ingress) -> None:
    response = await ingress.client.post(
        "/v2/enqueue", content=b"a=1", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert (await ingress.client.get("/v2/enqueue")).status_code == 405
    assert ingress.sink.records == []


async def test_kafka_unavailable_is_503_with_retry_after(ingress: Ingress) -> None:
    key = ingress.keys.enable("pagerduty")
    ingress.sink.failure = "broker down"
    resolve = {"routing_key": key, "event_action": "resolve", "dedup_key": "a"}
    response = await ingress.client.post("/v2/enqueue", json=resolve)
    assert response.status_code == 503
    assert response.headers["retry-after"]
    ingress.keys.caught_up = False
    response = await ingress.client.post("/v2/enqueue", json=resolve)
    assert response.status_code == 503
