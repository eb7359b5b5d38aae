"""The ingress against the real broker: durable writes, honest 503s, recovery."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from alertpipe.harness import fresh_topics
from alertpipe.localbroker.broker import LocalBroker
from schemas.raw import RawHeaders
from tests.ingest.conftest import FIXTURES
from tests.ingest.kafka_helpers import enable, read_all, running_app, wait_for_key

JSON = {"content-type": "application/json"}


async def test_bodies_and_headers_arrive_in_kafka_byte_for_byte(kafka_bootstrap: str) -> None:
    topics = await fresh_topics(kafka_bootstrap)
    te_key, te = await enable(kafka_bootstrap, topics, "thousandeyes")
    pg_key, _ = await enable(kafka_bootstrap, topics, "pingometer")
    sent: dict[str, tuple[bytes, str]] = {}
    async with running_app(kafka_bootstrap, topics) as (app, client):
        await wait_for_key(app, pg_key, "pingometer")
        for name in ("trigger.json", "clear.json", "webhook-test.json"):
            body = (FIXTURES / "thousandeyes" / name).read_bytes()
            r = await client.post(
                f"/integrations/thousandeyes/v1/{te_key}/Team-A",
                content=body,
                headers={**JSON, "user-agent": "te/1"},
            )
            assert r.status_code == 200
            sent[r.json()["request_id"]] = (body, "thousandeyes")
        form = (FIXTURES / "pingometer" / "down.form").read_bytes() + b"&note=caf%C3%A9\xff"
        r = await client.post(
            f"/integrations/pingometer/v1/{pg_key}/",
            content=form,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 200
        sent[r.json()["request_id"]] = (form, "pingometer")

    records = await read_all(kafka_bootstrap, topics.raw, expected=len(sent))
    assert len(records) == len(sent)
    for record in records:
        raw = RawHeaders.from_kafka(record.headers)
        body, source = sent[raw.request_id]
        assert record.value == body
        assert raw.source == source
        assert raw.org == "acme"
        assert te_key.encode() not in b"".join(v for _, v in record.headers)
        if source == "thousandeyes":
            assert (raw.key_id, raw.routing_key, record.key) == (
                te.key_id,
                "Team-A",
                b"acme/team-a",
            )
            assert raw.user_agent == "te/1"
        else:
            assert (raw.routing_key, record.key) == ("", b"acme/")
    # one org + routing key: one partition, in the order sent
    te_records = sorted((r for r in records if r.key == b"acme/team-a"), key=lambda r: r.offset)
    assert len({r.partition for r in te_records}) == 1
    assert [sent[RawHeaders.from_kafka(r.headers).request_id][0] for r in te_records] == [
        (FIXTURES / "thousandeyes" / n).read_bytes()
        for n in ("trigger.json", "clear.json", "webhook-test.json")
    ]


async def test_503_within_the_bound_while_kafka_is_down_and_recovery_after(
    tmp_path: Path,
) -> None:
    broker = LocalBroker(tmp_path / "kafka", echo=lambda _: None)
    status = await asyncio.to_thread(broker.start)
    assert status.bootstrap_servers is not None
    bootstrap = status.bootstrap_servers
    acked: set[str] = set()
    answered_503 = 0
    try:
        topics = await fresh_topics(bootstrap, partitions=1)
        key, _ = await enable(bootstrap, topics, "generic")
        url = f"/integrations/generic/20131114/alert/{key}/ops"
        async with running_app(bootstrap, topics, produce_timeout=2.0) as (app, client):
            await wait_for_key(app, key, "generic")

            async def post(n: int) -> httpx.Response:
                body = b'{"message_type":"CRITICAL","entity_id":"e%d"}' % n
                response = await client.post(url, content=body, headers=JSON)
                if response.status_code == 200:
                    acked.add(response.headers["x-request-id"])
                return response

            assert (await post(0)).status_code == 200

            await asyncio.to_thread(broker.stop)
            for n in range(1, 4):
                started = time.monotonic()
                response = await post(n)
                elapsed = time.monotonic() - started
                assert response.status_code == 503, response.text
                assert response.headers["retry-after"] == "5"
                assert elapsed < 2.0 + 1.5, f"503 took {elapsed:.2f}s, bound is 2s"
                answered_503 += 1

            await asyncio.to_thread(broker.start)  # same port: the same app must recover
            recovered_after = None
            deadline = time.monotonic() + 60
            n = 10
            while time.monotonic() < deadline:
                n += 1
                if (await post(n)).status_code == 200:
                    recovered_after = n
                    break
                await asyncio.sleep(0.5)
            assert recovered_after is not None, "ingress did not recover after the broker came back"
            for extra in range(5):
                assert (await post(100 + extra)).status_code == 200
        records = await read_all(bootstrap, topics.raw, expected=len(acked))
    finally:
        await asyncio.to_thread(broker.stop)
    in_kafka = {RawHeaders.from_kafka(r.headers).request_id for r in records}
    assert answered_503 == 3
    assert acked <= in_kafka, f"acknowledged but not in Kafka: {acked - in_kafka}"


async def test_a_body_at_the_size_limit_is_recorded_intact(kafka_bootstrap: str) -> None:
    topics = await fresh_topics(kafka_bootstrap, partitions=1)
    key, _ = await enable(kafka_bootstrap, topics, "generic")
    prefix = b'{"message_type":"INFO","entity_id":"big","pad":"'
    body = prefix + b"x" * (512 * 1024 - len(prefix) - 2) + b'"}'
    assert len(body) == 512 * 1024
    async with running_app(kafka_bootstrap, topics) as (app, client):
        await wait_for_key(app, key, "generic")
        url = f"/integrations/generic/v1/{key}/ops"
        responses = await asyncio.gather(
            *(client.post(url, content=body, headers=JSON) for _ in range(3))
        )
        assert [r.status_code for r in responses] == [200, 200, 200]
    records = await read_all(kafka_bootstrap, topics.raw, expected=3)
    assert [r.value for r in records] == [body] * 3
