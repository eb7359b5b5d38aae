"""Every sample of every source folder through the in-process ingress (its URL from the
mapping file, 200, recorded verbatim), then the recorded record through the pure stage 1."""

from __future__ import annotations

import pytest

from processors.pipeline import RawInput, process_raw
from schemas.registry import load_sources
from tests.ingest.conftest import Ingress

FOLDER_SAMPLES = [
    (name, path.name, path.read_bytes())
    for name, info in sorted(load_sources().items())
    # PagerDuty's: test_pagerduty.py; Amazon SNS's (signed): test_amazon_sns.py
    if info.mapping is not None and not info.key_in_body and info.protocol != "amazon_sns"
    for path in info.samples
]


@pytest.mark.parametrize(
    ("source", "name", "body"), FOLDER_SAMPLES, ids=[f"{s}/{n}" for s, n, _ in FOLDER_SAMPLES]
)
async def test_a_sample_is_recorded_and_maps(
    ingress: Ingress, source: str, name: str, body: bytes
) -> None:
    key = ingress.keys.enable(source)
    response = await ingress.client.post(
        ingress.url(source, key), content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"] == "success"
    [(_, _, value, headers)] = ingress.sink.records
    assert value == body
    assert dict(headers)["source"] == source.encode()
    result = process_raw(RawInput(value, headers, "alerts.raw", 0, 1), {})
    assert result.dead_letter is None, result.dead_letter
    assert result.alerts


async def test_a_folder_source_refuses_other_content_types(ingress: Ingress) -> None:
    key = ingress.keys.enable("alertmanager")
    response = await ingress.client.post(
        ingress.url("alertmanager", key), content=b"a=1", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert ingress.sink.records == []
