"""The operator's commands against a running `alertpipe worker` on the real broker: replay
reproduces what the worker did, explain, tail --follow and dlq redrive."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Iterator

import pytest

from processors.replay import iso_time
from tests.conftest import NewTopicFactory
from tests.ingest.kafka_helpers import enable, running_app, wait_for_key
from tests.processors.test_worker_e2e import (
    CLI,
    JSON,
    Pipeline,
    by_org,
    consume,
    new_org,
    te_body,
    worker_pipeline,
)


@pytest.fixture(scope="module")
def pipeline(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    with worker_pipeline(kafka_bootstrap, tmp_path_factory) as running:
        yield running


async def cli(
    pipeline: Pipeline, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [*CLI, *args],
        env={**pipeline.env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def post_all(pipeline: Pipeline, org: str, posts: list[tuple[str, bytes]]) -> None:
    """POST each (source, body) in order through the real ingress app, each answered 200."""
    urls = {"thousandeyes": "thousandeyes/v1", "generic": "generic/v1"}
    keys = {s: (await enable(pipeline.bootstrap, pipeline.topics, s, org))[0] for s in urls}
    async with running_app(pipeline.bootstrap, pipeline.topics) as (app, client):
        for source, key in keys.items():
            await wait_for_key(app, key, source)
        for source, body in posts:
            response = await client.post(
                f"/integrations/{urls[source]}/{keys[source]}/ops", content=body, headers=JSON
            )
            assert response.status_code == 200, response.text


def generic(kind: str, entity: str, t: int, n: int) -> bytes:
    return json.dumps({"message_type": kind, "entity_id": entity, "timestamp": t, "n": n}).encode()


def mixed_posts() -> list[tuple[str, bytes]]:
    trigger, clear = "ALERT_NOTIFICATION_TRIGGER", "ALERT_NOTIFICATION_CLEAR"
    posts = [
        ("thousandeyes", te_body(trigger, "e1", "2025-03-17 19:43:00")),
        ("thousandeyes", te_body(trigger, "e2", "2025-03-17 19:44:00")),
        ("thousandeyes", te_body(trigger, "e2", "2025-03-17 19:44:00")),
        ("thousandeyes", te_body(clear, "e3", "2025-03-17 20:05:00")),
        ("thousandeyes", te_body(trigger, "e4", "2025-03-17 19:50:00")),
        ("thousandeyes", te_body(trigger, "e5", "2025-03-17 20:30:00")),
        ("thousandeyes", b'{"eventType":"WEBHOOK_TEST","eventId":"t1"}'),
        ("thousandeyes", b'{"eventType": "ALERT_NOTIFICATION_TRIGGER", '),
        ("generic", b'{"message_type":"INFO","entity_id":"x","timestamp":null}'),
    ]
    for n in range(30):  # three incidents: triggers, repeats, acks, recoveries
        kind = ["CRITICAL", "CRITICAL", "WARNING", "ACKNOWLEDGEMENT", "RECOVERY"][n % 5]
        posts.append(("generic", generic(kind, f"svc-{n % 3}", 1_742_000_000 + n, n)))
    return posts


async def test_replay_reproduces_the_live_workers_alert_ids_and_decisions(
    pipeline: Pipeline, new_topic: NewTopicFactory
) -> None:
    org = new_org()
    since = iso_time(int(time.time() * 1000) - 1000)
    await post_all(pipeline, org, mixed_posts())
    until = iso_time(int(time.time() * 1000) + 1000)

    dry = await cli(pipeline, "replay", "--since", since, "--until", until, "--org", org, "--json")
    assert dry.returncode == 0, dry.stderr
    outcomes = [json.loads(line) for line in dry.stdout.splitlines()]
    assert len(outcomes) == len(mixed_posts())
    emitted = {o["alert_id"]: o for o in outcomes if o["outcome"] == "alert"}
    letters = {
        (o["raw"]["partition"], o["raw"]["offset"], o["error"]["code"])
        for o in outcomes
        if o["error"]
    }
    assert {o["outcome"] for o in outcomes} == {"alert", "suppressed", "dead_letter"}
    assert "dry run: nothing was written" in dry.stderr

    live = await consume(pipeline.bootstrap, pipeline.topics.normalized, len(emitted), by_org(org))
    await asyncio.sleep(2)  # anything the worker emits beyond the replay's alerts shows up too
    live = await consume(
        pipeline.bootstrap, pipeline.topics.normalized, len(emitted) + 1, by_org(org), timeout=5
    )
    live_alerts = {json.loads(r.value)["alert_id"]: json.loads(r.value) for r in live}
    assert len(live) == len(live_alerts) == len(emitted)
    assert set(live_alerts) == set(emitted)
    for alert_id, alert in live_alerts.items():
        assert alert["duplicates_suppressed"] == emitted[alert_id]["duplicates_suppressed"]
    dead = await consume(pipeline.bootstrap, pipeline.topics.dead_letter, len(letters), by_org(org))
    assert {
        (int(h["raw.partition"]), int(h["raw.offset"]), h["error.code"].decode())
        for h in (dict(r.headers) for r in dead)
    } == letters

    target = await new_topic(partitions=3)
    published = await cli(
        pipeline,
        "replay",
        "--since",
        since,
        "--until",
        until,
        "--org",
        org,
        "--to-topic",
        target,
        "-q",
    )
    assert published.returncode == 0, published.stderr
    assert f"published {len(emitted)} alerts to {target}" in published.stderr
    copies = await consume(pipeline.bootstrap, target, len(emitted), lambda r: True)
    assert sorted(r.value for r in copies) == sorted(r.value for r in live)  # byte for byte
