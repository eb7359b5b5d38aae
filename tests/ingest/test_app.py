"""Every status code of the ingress, in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from ingest.asgi import Message
from schemas.raw import RawHeaders
from tests.ingest.conftest import FIXTURES, Ingress, make_app

JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}


async def test_thousandeyes_body_is_recorded_verbatim_with_headers(ingress: Ingress) -> None:
    key = ingress.keys.enable("thousandeyes")
    body = (FIXTURES / "thousandeyes" / "trigger.json").read_bytes()
    response = await ingress.client.post(
        ingress.url("thousandeyes", key, "Team-A"),
        content=body,
        headers={**JSON, "user-agent": "ThousandEyes-Dragonfly-x1"},
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["result"] == "success"
    assert response.headers["x-request-id"] == answer["request_id"]

    [(topic, kafka_key, value, headers)] = ingress.sink.records
    assert topic == "alerts.raw"
    assert kafka_key == b"acme/team-a"
    assert value == body
    raw = RawHeaders.from_kafka(headers)
    integration = ingress.keys.table.lookup(key, "thousandeyes")
    assert integration is not None
    assert raw == RawHeaders(
        source="thousandeyes",
        org="acme",
        key_id=integration.key_id,
        routing_key="Team-A",
        content_type="application/json",
        received_at=1_742_240_600_123,
        request_id=answer["request_id"],
        remote_addr="203.0.113.9",
        user_agent="ThousandEyes-Dragonfly-x1",
        entity_id=None,
    )
    assert all(key.encode() not in v for _, v in headers)


async def test_test_button_gets_200(ingress: Ingress) -> None:
    key = ingress.keys.enable("thousandeyes")
    body = (FIXTURES / "thousandeyes" / "webhook-test.json").read_bytes()
    response = await ingress.client.post(
        ingress.url("thousandeyes", key), content=body, headers=JSON
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("fixture", "headers"), [("down.form", FORM), ("down.json", JSON), ("up.form", {})]
)
async def test_pingometer_form_or_json(
    ingress: Ingress, fixture: str, headers: dict[str, str]
) -> None:
    key = ingress.keys.enable("pingometer")
    body = (FIXTURES / "pingometer" / fixture).read_bytes()
    response = await ingress.client.post(
        ingress.url("pingometer", key), content=body, headers=headers
    )
    assert response.status_code == 200
    assert ingress.sink.records[-1][2] == body


async def test_generic_answers_like_victorops_and_passes_the_entity_id(ingress: Ingress) -> None:
    key = ingress.keys.enable("generic")
    body = (FIXTURES / "generic" / "critical.json").read_bytes()
    response = await ingress.client.post(ingress.url("generic", key), content=body, headers=JSON)
    assert response.status_code == 200
    assert response.json() == {"result": "success", "entity_id": "diskspace/db01.example.com"}
    assert RawHeaders.from_kafka(ingress.sink.records[-1][3]).entity_id == (
        "diskspace/db01.example.com"
    )

    anonymous = await ingress.client.post(
        ingress.url("generic", key), content=b'{"message_type":"INFO"}', headers=JSON
    )
    generated = anonymous.json()["entity_id"]
    assert anonymous.status_code == 200
    assert len(generated) == 32
    assert RawHeaders.from_kafka(ingress.sink.records[-1][3]).entity_id == generated


async def test_a_pingometer_key_works_on_the_victorops_rest_url_and_its_own(
    ingress: Ingress,
) -> None:
    """Pingometer's VictorOps integration asks only for the API key and a routing key, so it
    may build either URL; a VictorOps REST body on the Pingometer URL is Pingometer's."""
    key = ingress.keys.enable("pingometer")
    body = b'{"message_type":"CRITICAL","entity_id":"pingometer-42"}'
    rest = await ingress.client.post(ingress.url("generic", key), content=body, headers=JSON)
    assert rest.status_code == 200
    assert rest.json() == {"result": "success", "entity_id": "pingometer-42"}
    assert RawHeaders.from_kafka(ingress.sink.records[-1][3]).source == "generic"
    own = await ingress.client.post(ingress.url("pingometer", key), content=body, headers=JSON)
    assert own.status_code == 200
    assert RawHeaders.from_kafka(ingress.sink.records[-1][3]).source == "pingometer"
    other = ingress.keys.enable("thousandeyes")  # other sources' keys still get 404
    refused = await ingress.client.post(ingress.url("generic", other), content=body, headers=JSON)
    assert refused.status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [(b'{"entity_id":"e"}', "Missing fields: message_type"), (b"{not json", "Invalid JSON body")],
)
async def test_generic_failures_are_400_but_still_recorded(
    ingress: Ingress, body: bytes, message: str
) -> None:
    key = ingress.keys.enable("generic")
    response = await ingress.client.post(ingress.url("generic", key), content=body, headers=JSON)
    assert response.status_code == 400
    assert response.json() == {"result": "failure", "message": message}
    assert ingress.sink.records[-1][2] == body


async def test_missing_and_placeholder_routing_keys_are_accepted(ingress: Ingress) -> None:
    key = ingress.keys.enable("generic")
    prefix = "/integrations/generic/20131114/alert"
    for path in (f"{prefix}/{key}", f"{prefix}/{key}/", f"{prefix}/{key}/$routing_key"):
        response = await ingress.client.post(path, content=b'{"message_type":"INFO"}', headers=JSON)
        assert response.status_code == 200, path
    assert [RawHeaders.from_kafka(r[3]).routing_key for r in ingress.sink.records] == [
        "",
        "",
        "$routing_key",
    ]


async def test_unknown_revoked_and_other_source_keys_get_the_same_404(ingress: Ingress) -> None:
    te_key = ingress.keys.enable("thousandeyes")
    revoked_key = ingress.keys.enable("generic")
    item = ingress.keys.table.lookup(revoked_key, "generic")
    assert item is not None
    ingress.keys.table.apply(replace(item, revoked_at=2))
    urls = [
        ingress.url("generic", te_key),  # key of another source
        ingress.url("generic", revoked_key),
        ingress.url("generic", "0f8fad5b-d9cb-469f-a165-70867728950e"),
        f"/integrations/nosuch/v1/{te_key}/x",
    ]
    bodies = []
    for url in urls:
        response = await ingress.client.post(url, content=b'{"message_type":"INFO"}', headers=JSON)
        assert response.status_code == 404, url
        body = response.json()
        body.pop("request_id", None)
        bodies.append(body)
    assert bodies == [{"result": "failure", "message": "Not found"}] * len(urls)
    assert ingress.sink.records == []


async def test_other_methods_get_405(ingress: Ingress) -> None:
    key = ingress.keys.enable("generic")
    for method in ("GET", "PUT", "DELETE"):
        response = await ingress.client.request(method, ingress.url("generic", key))
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
    assert (await ingress.client.post("/healthz")).status_code == 405


async def test_bad_routing_key_gets_400(ingress: Ingress) -> None:
    key = ingress.keys.enable("generic")
    response = await ingress.client.post(ingress.url("generic", key, "a%2F..%2Fb"), content=b"{}")
    assert response.status_code == 400
    assert ingress.sink.records == []


async def test_unsupported_content_type_gets_415(ingress: Ingress) -> None:
    key = ingress.keys.enable("thousandeyes")
    response = await ingress.client.post(
        ingress.url("thousandeyes", key), content=b"<a/>", headers={"content-type": "text/xml"}
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["message"]
    ok = await ingress.client.post(
        ingress.url("thousandeyes", key),
        content=b"{}",
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 200


async def test_oversize_bodies_get_413_declared_or_streamed(ingress: Ingress) -> None:
    key = ingress.keys.enable("generic")
    big = b'{"message_type":"INFO","x":"' + b"a" * (512 * 1024) + b'"}'
    declared = await ingress.client.post(ingress.url("generic", key), content=big, headers=JSON)
    assert declared.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(9):
            yield b"a" * (64 * 1024)

    streamed = await ingress.client.post(
        ingress.url("generic", key), content=chunks(), headers=JSON
    )
    assert streamed.status_code == 413
    assert ingress.sink.records == []


async def test_oversize_body_is_not_read_past_the_limit() -> None:
    app, sink, keys = make_app(max_body_bytes=100)
    key = keys.enable("generic")
    chunks = [b"x" * 60] * 10
    taken = 0

    async def receive() -> Message:
        nonlocal taken
        taken += 1
        return {"type": "http.request", "body": chunks[taken - 1], "more_body": taken < 10}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    path = f"/integrations/generic/v1/{key}/x"
    await app(http_scope(path), receive, send)
    assert sent[0]["status"] == 413
    assert taken == 2  # the chunk that crossed the limit was the last one read
    assert sink.records == []


def http_scope(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, object]:
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "headers": headers or [],
        "client": ("127.0.0.1", 1),
    }


async def test_a_body_that_never_finishes_gets_408() -> None:
    app, sink, keys = make_app(body_timeout_s=0.2)
    key = keys.enable("generic")
    first = True

    async def receive() -> Message:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"{", "more_body": True}
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(app(http_scope(f"/integrations/generic/v1/{key}/x"), receive, send), 5)
    assert sent[0]["status"] == 408
    assert sink.records == []


async def test_rate_limit_gets_429_with_retry_after() -> None:
    app, sink, keys = make_app(rate_limit_per_s=1.0, rate_limit_burst=2)
    key = keys.enable("generic")
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://i") as client:
        url = f"/integrations/generic/v1/{key}/x"
        codes = [
            (await client.post(url, content=b'{"message_type":"INFO"}', headers=JSON))
            for _ in range(3)
        ]
    assert [r.status_code for r in codes] == [200, 200, 429]
    limited = codes[-1]
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["limit"] == {"per_second": 1.0, "burst": 2}
    assert "Rate limit" in limited.json()["message"]
    assert len(sink.records) == 2


async def test_kafka_unavailable_gets_503_with_retry_after(ingress: Ingress) -> None:
    key = ingress.keys.enable("generic")
    ingress.sink.failure = "Kafka did not acknowledge within 10s"
    response = await ingress.client.post(
        ingress.url("generic", key), content=b'{"message_type":"INFO"}', headers=JSON
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["result"] == "failure"


async def test_503_not_404_while_keys_are_loading(ingress: Ingress) -> None:
    key = ingress.keys.enable("generic")
    ingress.keys.caught_up = False
    ingress.keys.problem = "integration keys not loaded yet"
    response = await ingress.client.post(ingress.url("generic", key), content=b"{}", headers=JSON)
    assert response.status_code == 503
    ready = await ingress.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"ready": False, "problem": "integration keys not loaded yet"}


async def test_health_readiness_metrics_and_openapi(ingress: Ingress) -> None:
    assert (await ingress.client.get("/healthz")).json() == {"status": "ok"}
    assert (await ingress.client.get("/readyz")).json() == {"ready": True, "problem": None}
    key = ingress.keys.enable("generic")
    await ingress.client.post(
        ingress.url("generic", key), content=b'{"message_type":"x"}', headers=JSON
    )
    await ingress.client.post(
        ingress.url("generic", key), content=b"<x/>", headers={"content-type": "text/xml"}
    )
    metrics = (await ingress.client.get("/metrics")).text
    assert 'alertpipe_ingress_requests_total{source="generic",status="200"} 1.0' in metrics
    assert 'alertpipe_ingress_rejected_total{reason="content_type"} 1.0' in metrics
    assert "alertpipe_ingress_produce_seconds_count 1.0" in metrics
    assert key not in metrics
    doc = (await ingress.client.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    assert (await ingress.client.get("/nope")).status_code == 404


async def test_openapi_documents_every_source_path_and_status(ingress: Ingress) -> None:
    """The served document is built from the sources the app serves (ingest.openapidoc)."""
    from schemas.registry import load_sources

    doc = (await ingress.client.get("/openapi.json")).json()
    for info in load_sources().values():
        if info.endpoint is not None:  # PagerDuty's own URLs, the key in the body
            assert {"202", "400", "413", "415", "429"} <= set(
                doc["paths"][info.endpoint]["post"]["responses"]
            ), info.endpoint
        for prefix in info.paths:
            assert f"/integrations/{prefix}/{{integration_key}}/{{routing_key}}" in doc["paths"]
    statuses = set(
        doc["paths"]["/integrations/generic/20131114/alert/{integration_key}/{routing_key}"][
            "post"
        ]["responses"]
    )
    assert {"200", "400", "404", "405", "408", "413", "415", "429", "503"} <= statuses
    for path, item in doc["paths"].items():  # a bad routing key is 400 on every service URL
        if path.startswith("/integrations/"):
            assert "400" in item["post"]["responses"], path
