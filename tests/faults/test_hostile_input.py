"""Scenario 4: hostile bodies through the real pipeline (ingress process -> Kafka -> worker
process). Every endpoint gets generated bodies; the ingress never answers 5xx; every body
it accepted is accounted for as an alert, a counted duplicate or a dead letter; the worker
neither crashes nor leaves a partition behind (its consumer group catches up to the end)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.registry import load_sources
from tests.faults.accounting import settled_ledger, wait_for_no_lag, worker_topics
from tests.faults.figures import Figures
from tests.faults.hostile import bodies
from tests.faults.pipeline import Pipeline, assert_worker_healthy, running_pipeline
from tests.faults.scale import pick

pytestmark = [pytest.mark.kafka, pytest.mark.faults, pytest.mark.timeout(pick(600, 1800))]

EXAMPLES = pick(200, 2000)


def with_body_key(body: bytes, key: str, give: bool) -> tuple[bytes, bool]:
    """``body`` with ``key`` as its routing_key when ``give`` and it is a JSON object; and
    whether the ingress can authenticate it (only then does it record it)."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested past what json reads
        return body, False
    if not give or not isinstance(parsed, dict):
        return body, False
    parsed["routing_key"] = key
    return json.dumps(parsed).encode(), True


@pytest.fixture(scope="module")
def pipeline(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    yield from running_pipeline(kafka_bootstrap, tmp_path_factory.mktemp("hostile"))


def test_hostile_bodies_to_every_endpoint_are_all_accounted_for(
    pipeline: Pipeline, figures: Figures
) -> None:
    org = f"h{uuid.uuid4().hex[:8]}"
    infos = load_sources()
    sources = sorted(infos)
    keys = {s: pipeline.new_key(s, org) for s in sources if infos[s].keys_from is None}
    keys |= {s: keys[i.key_source] for s, i in infos.items() if i.keys_from is not None}
    recorded: list[str] = []  # request ids of bodies the ingress wrote to Kafka
    statuses: Counter[int] = Counter()
    client = httpx.Client(timeout=60)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.sampled_from(sources).flatmap(lambda s: st.tuples(st.just(s), bodies(s))),
        st.booleans(),
    )
    def post(case: tuple[str, tuple[str, bytes]], give_key: bool) -> None:
        source, (content_type, body) = case
        authenticated, allowed = True, frozenset({200, 202, 400, 413})
        if infos[source].key_in_body:  # PagerDuty: the key is the body's routing_key
            body, authenticated = with_body_key(body, keys[infos[source].key_source], give_key)
        if infos[source].protocol == "amazon_sns":
            # its key takes no topic: every body is refused, not signed (400) or of a topic
            # not enabled (403), before anything is fetched; nothing is written
            authenticated, allowed = False, frozenset({400, 403, 413})
        response = client.post(
            pipeline.url(source, keys[source]), content=body, headers={"content-type": content_type}
        )
        statuses[response.status_code] += 1
        assert response.status_code in allowed, (source, response.status_code, response.text)
        rid = response.headers.get("x-request-id")
        # 2xx, and the VictorOps- and PagerDuty-style 400s of an authenticated body, are
        # recorded in Kafka
        if response.status_code in (200, 202, 400) and rid and authenticated:
            recorded.append(rid)

    try:
        post()
    finally:
        client.close()
    book = asyncio.run(
        settled_ledger(pipeline.bootstrap, pipeline.topics, pipeline.group, recorded, timeout=240)
    )
    consumed = worker_topics(pipeline.topics, pipeline.group)
    lag, _ = asyncio.run(wait_for_no_lag(pipeline.bootstrap, pipeline.group, consumed, 120))
    outcomes = Counter(
        book.outcome(ref) for rid in recorded for ref in book.by_request.get(rid, [])
    )
    unaccounted = book.unaccounted(recorded)
    figures.update(
        bodies=sum(statuses.values()),
        statuses=dict(sorted(statuses.items())),
        recorded=len(recorded),
        alerts=outcomes["alert"],
        duplicates=outcomes["duplicate"],
        dead_letters=outcomes["dead_letter"],
        lost=len(unaccounted),
        unexpected_ids=len(book.unexpected),
        final_lag=lag,
    )
    assert not unaccounted, unaccounted[:5]
    assert not book.lost, sorted(book.lost)[:10]
    assert not book.unexpected
    assert lag == 0
    assert outcomes["alert"] > 0
    assert outcomes["dead_letter"] > 0
    assert_worker_healthy(pipeline)
