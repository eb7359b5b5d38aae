"""The ingress's /openapi.json is built from the sources it serves (``ingest.openapidoc``):
every URL of every source is an operation with its content types and its protocol's answers,
and an operator's folder appears with no other edit."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson

from ingest.app import IngressApp
from ingest.openapidoc import openapi_document, protocol_answers
from ingest.settings import IngressSettings
from kafkaio.settings import Settings
from schemas.registry import catalog, load_sources
from tests.ingest.conftest import RecordingSink, StaticKeys
from tests.schemas.test_mapping_files import GOOD, write_folder

SERVICE_URL = "/integrations/{}/{{integration_key}}/{{routing_key}}"
COMMON = {"400", "405", "408", "413", "415", "429", "503"}


def test_every_url_of_every_source_is_an_operation_with_its_answers() -> None:
    sources = load_sources()
    doc = openapi_document(sources)
    operation_ids = []
    for info in sources.values():
        urls = [SERVICE_URL.format(p) for p in info.paths]
        urls += [info.endpoint] if info.endpoint else []
        for url in urls:
            operation = doc["paths"][url]["post"]
            operation_ids.append(operation["operationId"])
            assert list(operation["requestBody"]["content"]) == list(info.media_types), url
            responses = set(operation["responses"])
            assert responses >= COMMON, url
            assert ("202" if info.key_in_body else "200") in responses, url
            if url.startswith("/integrations/"):  # a bad routing key is 400 on every one
                assert "404" in responses, url
    assert len(operation_ids) == len(set(operation_ids))
    assert not [p for p in doc["paths"] if "{source}" in p]  # no catch-all: each one named


def test_the_protocols_answers_come_with_their_sources() -> None:
    doc = openapi_document(load_sources())
    sns = doc["paths"][SERVICE_URL.format("amazon_sns/v1")]["post"]
    assert {"403", "502"} <= set(sns["responses"])
    assert list(sns["requestBody"]["content"]) == ["text/plain", "application/json"]
    enqueue = doc["paths"]["/v2/enqueue"]["post"]
    ref = enqueue["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert body["required"] == load_sources()["pagerduty"].schema["required"]
    assert "text/plain" in enqueue["responses"]["400"]["content"]  # "Invalid routing key"
    assert set(protocol_answers("alertpipe")) == {200, 400, 404, 405, 408, 413, 415, 429, 503}


def test_an_operators_folder_appears_with_its_own_answers(tmp_path: Path) -> None:
    write_folder(
        tmp_path,
        "uptimebot",
        GOOD.replace("example/v1", "uptimebot/v2").replace("json]", "json, text/plain]")
        + "summary: 'An Uptimebot check: one alert per body'\n"
        + "description: Paste the service URL as the webhook.\n"
        + "answers:\n  '200': Recorded; Uptimebot retries anything else.\n  409: Never.\n",
    )
    doc = openapi_document(catalog(tmp_path))
    operation = doc["paths"][SERVICE_URL.format("uptimebot/v2")]["post"]
    assert operation["operationId"] == "uptimebot"
    assert operation["summary"] == "An Uptimebot check: one alert per body"
    assert operation["description"] == "Paste the service URL as the webhook."
    assert list(operation["requestBody"]["content"]) == ["application/json", "text/plain"]
    answers = operation["responses"]
    assert answers["200"]["description"] == "Recorded; Uptimebot retries anything else."
    assert answers["409"]["description"] == "Never."
    assert set(doc["paths"]) > set(openapi_document(load_sources())["paths"])


async def test_the_ingress_serves_the_document_of_its_own_sources(tmp_path: Path) -> None:
    write_folder(tmp_path, "uptimebot", GOOD.replace("example/v1", "uptimebot/v1"))
    settings = IngressSettings(kafka=Settings(bootstrap_servers="unused:9092"))
    app = IngressApp(settings, catalog(tmp_path), RecordingSink(), StaticKeys())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as client:
        served = orjson.loads((await client.get("/openapi.json")).content)
    assert served == openapi_document(catalog(tmp_path))
    assert SERVICE_URL.format("uptimebot/v1") in served["paths"]
    assert served["openapi"].startswith("3.1")
