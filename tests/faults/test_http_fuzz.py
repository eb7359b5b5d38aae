"""Scenario 5: HTTP fuzzing against the OpenAPI document the ingress serves (schemathesis;
/openapi.json, built from its sources), on a real ingress process with Kafka up. Cases come from
every documented operation, in positive and negative generation modes, half of them with a real
integration key so the authenticated paths are exercised too; methods outside the document are
tried as well.

Checks: no 5xx at all (503 is documented only for Kafka trouble, and Kafka is up here), and
every status code, content type, header and body matches the document. Not used:
schemathesis' negative_data_rejection and positive_data_acceptance, because the contract is
"record every authenticated body verbatim, dead-letter it later if it is bad" (a non-object
body gets 200) and "unknown keys get 404" (schema-valid data with a random key is refused).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from schemas.registry import load_sources
from tests.faults.accounting import wait_for_no_lag, worker_topics
from tests.faults.figures import Figures
from tests.faults.pipeline import Pipeline, assert_worker_healthy, running_pipeline
from tests.faults.scale import pick

pytestmark = [pytest.mark.kafka, pytest.mark.faults, pytest.mark.timeout(pick(600, 1800))]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MODES = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
# schemathesis' own type parameters for an operation of an OpenAPI document are its internals
Operation = schemathesis.APIOperation[Any, Any, Any, Any]


def operations_of(schema: schemathesis.BaseSchema) -> list[Operation]:
    """Every operation of ``schema``; one schemathesis could not read raises its InvalidSchema."""
    found = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found.append(result.ok())
    return found


@pytest.fixture(scope="module")
def pipeline(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    yield from running_pipeline(kafka_bootstrap, tmp_path_factory.mktemp("fuzz"))


def test_fuzzed_requests_get_documented_answers_and_never_5xx(
    pipeline: Pipeline, figures: Figures
) -> None:
    schema = schemathesis.openapi.from_url(f"{pipeline.ingress.base_url}/openapi.json")
    operations = operations_of(schema)
    cases = st.one_of([op.as_strategy(generation_mode=mode) for op in operations for mode in MODES])
    infos = load_sources()
    keys = {s: pipeline.new_key(s, "fuzz") for s in sorted(infos) if infos[s].keys_from is None}
    # PagerDuty's endpoints: the key goes in the body
    by_endpoint = {i.endpoint: i.key_source for i in infos.values() if i.endpoint is not None}
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=pick(300, 3000),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, real_key=st.booleans())
    def call(case: schemathesis.Case[Operation], real_key: bool) -> None:
        params = case.path_parameters or {}
        segments = case.operation.path.split("/")  # /integrations/<source>/...
        source = params.get("source") or (segments[2] if len(segments) > 2 else "")
        if real_key and "integration_key" in params and source in keys:
            params["integration_key"] = keys[source]
        endpoint_source = by_endpoint.get(case.operation.path)
        if real_key and endpoint_source is not None and isinstance(case.body, dict):
            case.body["routing_key"] = keys[endpoint_source]
        response = case.call(base_url=pipeline.ingress.base_url, timeout=30)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    call()
    with httpx.Client(base_url=pipeline.ingress.base_url) as client:
        for method in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "HEAD"):
            response = client.request(method, f"/integrations/generic/v1/{keys['generic']}/ops")
            statuses[response.status_code] += 1
            assert response.status_code == 405
            if method != "HEAD":
                assert response.json()["result"] == "failure"
    consumed = worker_topics(pipeline.topics, pipeline.group)
    lag, _ = asyncio.run(wait_for_no_lag(pipeline.bootstrap, pipeline.group, consumed, 120))
    figures.update(
        requests=sum(statuses.values()),
        statuses=dict(sorted(statuses.items())),
        server_errors=sum(n for s, n in statuses.items() if s >= 500),
        final_lag=lag,
    )
    assert statuses[200] > 0, "no fuzzed request reached Kafka: the real-key cases did not work"
    assert lag == 0
    assert_worker_healthy(pipeline)
