"""The operator's commands against a running `alertpipe worker` on the real broker: replay
reproduces what the worker did, explain, tail --follow and dlq redrive."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from processors.replay import iso_time
from schemas.normalized import RawRef, alert_id_for
from tests.conftest import NewTopicFactory
from tests.ingest.kafka_helpers import enable, running_app, wait_for_key
from tests.processors.helpers import NULLS_BODY, NULLS_PATHS, write_nulls_fix
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
        (*map(int, o["ref"].split(":")[1:]), o["error"]["code"]) for o in outcomes if o["error"]
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


def ref_of(record: Any) -> str:
    return f"{record.topic}:{record.partition}:{record.offset}"


async def test_explain_of_a_dead_letter_names_every_failing_json_path(pipeline: Pipeline) -> None:
    org = new_org()
    await post_all(pipeline, org, [("generic", NULLS_BODY)])
    [record] = await consume(pipeline.bootstrap, pipeline.topics.dead_letter, 1, by_org(org))
    headers = dict(record.headers)

    text = await cli(pipeline, "explain", ref_of(record))
    assert text.returncode == 0, text.stderr
    assert "dead letter of raw record" in text.stdout
    for path in NULLS_PATHS:
        assert path in text.stdout

    done = await cli(pipeline, "explain", ref_of(record), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["named"] == "dead_letter"
    assert [e["path"] for e in data["schema"]["errors"]] == NULLS_PATHS
    assert data["recorded_error"]["path"] == "$.timestamp"
    assert data["ref"] == ref_of(record)
    assert data["raw_ref"] == ":".join(
        headers[f"raw.{k}"].decode() for k in ("topic", "partition", "offset")
    )
    assert json.loads(data["body"]) == json.loads(NULLS_BODY)


async def test_explain_of_a_normalized_alert_leads_to_its_raw_record_and_decision(
    pipeline: Pipeline,
) -> None:
    org = new_org()
    t = 1_742_000_000
    await post_all(
        pipeline,
        org,
        [
            ("generic", generic("CRITICAL", "db", t, 1)),
            ("generic", generic("CRITICAL", "db", t + 1, 2)),
            ("generic", generic("RECOVERY", "db", t + 2, 3)),
        ],
    )
    records = await consume(pipeline.bootstrap, pipeline.topics.normalized, 2, by_org(org))
    recovery = next(r for r in records if json.loads(r.value)["message_type"] == "RECOVERY")
    delivered = json.loads(recovery.value)

    done = await cli(pipeline, "explain", ref_of(recovery), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["named"] == "normalized"
    assert data["raw_ref"] == "{topic}:{partition}:{offset}".format(**delivered["raw"])
    [step] = data["incident"]
    assert (step["alert_id"], step["decision"], step["emitted"]) == (
        delivered["alert_id"],
        "resolve",
        True,
    )
    assert step["duplicates_suppressed"] == delivered["duplicates_suppressed"] == 1
    assert data["alerts"][0]["routing"]["reason"] == "no_routes"
    assert any("routes in force now" in note for note in data["notes"])


async def test_redrive_after_a_schema_fix_moves_dead_letters_to_normalized_alerts(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    org = new_org()
    still_bad = b'{"message_type":"CRITICAL","entity_id":"' + b"e" * 600 + b'"}'  # > 512
    await post_all(
        pipeline, org, [("generic", NULLS_BODY), ("generic", still_bad), ("thousandeyes", b"{nope")]
    )
    letters = await consume(pipeline.bootstrap, pipeline.topics.dead_letter, 3, by_org(org))
    assert sorted(dict(r.headers)["error.code"] for r in letters) == [
        b"invalid_json",
        b"schema",
        b"schema",
    ]
    fixes = {"ALERTPIPE_SCHEMA_DIR": str(write_nulls_fix(tmp_path / "fixes").parent)}
    args = ["dlq", "redrive", "--code", "schema", "--org", org]

    unfixed = await cli(pipeline, *args, "--dry-run")
    assert unfixed.returncode == 0, unfixed.stderr
    assert "would pass: 0 (0 alerts)" in unfixed.stderr
    assert "would fail again: 2 (schema 2)" in unfixed.stderr
    dry = await cli(pipeline, *args, "--dry-run", env=fixes)
    assert "would pass: 1 (1 alerts)" in dry.stderr
    assert "would fail again: 1 (schema 1)" in dry.stderr

    default = await cli(pipeline, *args, "--json", env=fixes)  # a dry run unless --yes
    assert default.returncode == 0, default.stderr
    assert "dry run: nothing was written to Kafka (add --yes to write)" in default.stderr
    shown = [json.loads(line) for line in default.stdout.splitlines()]
    assert {o["ref"] for o in shown} == {ref_of(r) for r in letters if r.value != b"{nope"}
    assert all(o["raw_ref"].startswith(f"{pipeline.topics.raw}:") for o in shown)

    done = await cli(pipeline, *args, "--yes", env=fixes)
    assert done.returncode == 0, done.stderr
    assert "now pass: 1 (1 alerts)" in done.stderr
    assert "fail again: 1 (schema 1)" in done.stderr

    original = next(r for r in letters if r.value == NULLS_BODY)
    headers = dict(original.headers)
    [record] = await consume(pipeline.bootstrap, pipeline.topics.normalized, 1, by_org(org))
    alert = json.loads(record.value)
    raw = RawRef(
        headers["raw.topic"].decode(), int(headers["raw.partition"]), int(headers["raw.offset"])
    )
    assert (alert["entity_id"], alert["message_type"]) == ("disk/db1", "CRITICAL")
    assert alert["alert_id"] == alert_id_for(raw, 0)
    assert alert["received_at"] == int(headers["received_at"])

    after = await consume(pipeline.bootstrap, pipeline.topics.dead_letter, 4, by_org(org))
    [again] = [r for r in after if dict(r.headers).get("redrive.of")]
    again_headers = dict(again.headers)
    before = dict(next(r for r in letters if r.value == still_bad).headers)
    assert again.value == still_bad
    assert again_headers["request_id"] == before["request_id"]
    assert again_headers["received_at"] == before["received_at"]
    assert again_headers["redrive.of"].decode() == ref_of(
        next(r for r in letters if r.value == still_bad)
    )
    assert len(after) == 4  # the dry runs wrote nothing


async def test_tail_follow_prints_a_record_posted_after_it_started(pipeline: Pipeline) -> None:
    org = new_org()
    proc = await asyncio.create_subprocess_exec(
        *CLI, "tail", "normalized", "--follow", "--org", org,
        env=pipeline.env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        async with asyncio.timeout(60):
            started = await proc.stderr.readline()
        assert b"following" in started, started
        await post_all(pipeline, org, [("generic", generic("CRITICAL", "tail-me", 1, 1))])
        async with asyncio.timeout(90):
            line = await proc.stdout.readline()
        assert b"tail-me" in line
        assert org.encode() in line
        assert b"CRITICAL" in line
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            assert await proc.wait() == 130
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
