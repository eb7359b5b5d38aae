"""End to end on the real broker: webhooks POSTed to the ingress come out of a running
`alertpipe worker` process in alerts.normalized (or alerts.dead-letter), and a routing change
made with the CLI is used for the next alert."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from alertpipe.harness import Proc, fresh_topics, wait_worker_ready, worker_env
from kafkaio.admin import connected_admin
from kafkaio.settings import TopicSettings
from kafkaio.worker_topics import internal_topics
from schemas.raw import RawHeaders
from schemas.registry import load_sources
from tests.ingest.kafka_helpers import enable, running_app, wait_for_key
from tests.processors.faults import stop_worker
from tests.processors.helpers import FIXTURES, alert_validator

CLI = [sys.executable, "-m", "alertpipe.cli"]


@dataclass
class Pipeline:
    bootstrap: str
    topics: TopicSettings
    env: dict[str, str]


@contextmanager
def worker_pipeline(
    bootstrap: str,
    tmp_path_factory: pytest.TempPathFactory,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Pipeline]:
    """Fresh topics and one running `alertpipe worker` on them, stopped on exit."""
    topics = asyncio.run(fresh_topics(bootstrap, partitions=3))
    env = worker_env(bootstrap, topics, tmp_path_factory.mktemp("worker"))
    env.update(extra_env or {})
    log = tmp_path_factory.mktemp("worker-log") / "worker.log"
    with log.open("w") as out, subprocess.Popen([*CLI, "worker"], env=env, stdout=out,
                                                stderr=subprocess.STDOUT) as proc:  # fmt: skip
        try:
            wait_until_ready(proc, log)
            yield Pipeline(bootstrap, topics, env)
        finally:
            stop_worker(proc)
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    not_json = [line for line in text.splitlines() if not is_json_object(line)]
    assert not_json == [], f"the worker logs JSON lines only, also wrote: {not_json[:5]}"


def is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


@pytest.fixture(scope="module")
def pipeline(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    with worker_pipeline(kafka_bootstrap, tmp_path_factory) as running:
        yield running


def wait_until_ready(proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    """The worker has joined its group and loaded its routes; fail at once if it died."""
    wait_worker_ready(Proc("worker", proc, log), timeout)


async def consume(bootstrap: str, topic: str, want: int, match: Any, timeout: float = 60) -> list[
    Any
]:  # fmt: skip
    """Records of ``topic`` for which ``match(record)`` holds, until ``want`` of them."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                isolation_level="read_committed",
                                auto_offset_reset="earliest", enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    found: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while len(found) < want:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found.extend(r for r in records if match(r))
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return found


def by_org(org: str) -> Any:
    return lambda r: r.key is not None and r.key.startswith(f"{org}/".encode())


JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
URL = {
    "thousandeyes": "thousandeyes/v1",
    "pingometer": "pingometer/v1",
    "generic": "generic/20131114/alert",
}


def new_org() -> str:
    return f"o{uuid.uuid4().hex[:10]}"


async def test_every_source_comes_out_normalized(pipeline: Pipeline) -> None:
    org = new_org()
    keys = {s: (await enable(pipeline.bootstrap, pipeline.topics, s, org))[0] for s in URL}
    posts = [
        ("thousandeyes", "trigger.json", JSON),
        ("thousandeyes", "clear.json", JSON),
        ("thousandeyes", "webhook-test.json", JSON),
        ("pingometer", "down.form", FORM),
        ("pingometer", "down.json", JSON),
        ("generic", "critical.json", JSON),
    ]
    async with running_app(pipeline.bootstrap, pipeline.topics) as (app, client):
        for source, key in keys.items():
            await wait_for_key(app, key, source)
        for source, name, headers in posts:
            body = (FIXTURES / source / name).read_bytes()
            response = await client.post(
                f"/integrations/{URL[source]}/{keys[source]}/team-a", content=body, headers=headers
            )
            assert response.status_code == 200, response.text

    # stage 2: the second Pingometer "down" (same monitor, other body) is a duplicate
    records = await consume(
        pipeline.bootstrap, pipeline.topics.normalized, len(posts) - 1, by_org(org)
    )
    alerts = [json.loads(r.value) for r in records]
    for record, alert in zip(records, alerts, strict=True):
        assert not list(alert_validator().iter_errors(alert))
        assert record.key == alert["incident_key"].encode()
        assert alert["raw"]["topic"] == pipeline.topics.raw
        assert alert["org"] == org
    assert sorted(
        (a["source"], a["message_type"], a["entity_id"], a["is_test"]) for a in alerts
    ) == sorted(
        [
            ("thousandeyes", "CRITICAL", "thousandeyes:119245678", False),
            ("thousandeyes", "RECOVERY", "thousandeyes:119245678", False),
            ("thousandeyes", "INFO", "thousandeyes:test:1742240580123", True),
            ("pingometer", "CRITICAL", "pingometer:48213", False),
            ("generic", "CRITICAL", "diskspace/db01.example.com", False),
        ]
    )
    assert len({a["alert_id"] for a in alerts}) == len(alerts)
    assert {a["routing"]["reason"] for a in alerts} == {"no_routes"}


async def test_declarative_sources_come_out_one_alert_per_element(pipeline: Pipeline) -> None:
    """Alertmanager and Grafana bodies of several alerts each, through the real ingress and
    worker: every element is its own normalized alert, on its own incident key."""
    org = new_org()
    sources = load_sources()
    posts = [("alertmanager", "multi.json"), ("grafana", "firing-two.json")]
    keys = {s: (await enable(pipeline.bootstrap, pipeline.topics, s, org))[0] for s, _ in posts}
    expected = 0
    async with running_app(pipeline.bootstrap, pipeline.topics) as (app, client):
        for source, key in keys.items():
            await wait_for_key(app, key, source)
        for source, name in posts:
            [path] = [p for p in sources[source].samples if p.name == name]
            body = path.read_bytes()
            expected += len(json.loads(body)["alerts"])
            response = await client.post(
                f"/integrations/{sources[source].paths[0]}/{keys[source]}/team-a",
                content=body,
                headers=JSON,
            )
            assert response.status_code == 200, response.text
    records = await consume(pipeline.bootstrap, pipeline.topics.normalized, expected, by_org(org))
    alerts = [json.loads(r.value) for r in records]
    for record, alert in zip(records, alerts, strict=True):
        assert not list(alert_validator().iter_errors(alert))
        assert record.key == alert["incident_key"].encode()
    assert sorted((a["source"], a["message_type"], a["entity_id"]) for a in alerts) == [
        ("alertmanager", "CRITICAL", "alertmanager:1b2c3d4e5f607182"),
        ("alertmanager", "RECOVERY", "alertmanager:2c3d4e5f60718293"),
        ("alertmanager", "WARNING", "alertmanager:0a1b2c3d4e5f6071"),
        ("grafana", "CRITICAL", "grafana:9a0b1c2d3e4f5a6b"),
        ("grafana", "WARNING", "grafana:4d8e0c7b2a915f36"),
    ]
    assert len({a["alert_id"] for a in alerts}) == expected


async def test_pagerduty_events_drive_one_incident_by_dedup_key(pipeline: Pipeline) -> None:
    """PagerDuty Events API v2 through the real ingress and worker: a trigger without
    dedup_key gets one answered, and acknowledge and resolve with it act on the same incident;
    a change event is INFO. The integration's routing key is the requested one."""
    org = new_org()
    key, _ = await enable(pipeline.bootstrap, pipeline.topics, "pagerduty", org, "db-team")
    sources = load_sources()
    [trigger] = [
        p for p in sources["pagerduty"].samples if p.name == "trigger-without-dedup-key.json"
    ]
    [change] = [p for p in sources["pagerduty_change"].samples if p.name == "change.json"]
    async with running_app(pipeline.bootstrap, pipeline.topics) as (app, client):
        await wait_for_key(app, key, "pagerduty")
        body = {**json.loads(trigger.read_text()), "routing_key": key}
        response = await client.post("/v2/enqueue", json=body)
        assert response.status_code == 202, response.text
        dedup_key = response.json()["dedup_key"]
        for action in ("acknowledge", "resolve"):
            event = {"routing_key": key, "event_action": action, "dedup_key": dedup_key}
            response = await client.post("/v2/enqueue", json=event)
            assert response.status_code == 202, response.text
            assert response.json()["dedup_key"] == dedup_key
        changed = {**json.loads(change.read_text()), "routing_key": key}
        response = await client.post("/v2/change/enqueue", json=changed)
        assert response.json() == {"status": "success", "message": "Change event processed"}
    records = await consume(pipeline.bootstrap, pipeline.topics.normalized, 4, by_org(org))
    alerts = [json.loads(r.value) for r in records]
    for alert in alerts:
        assert not list(alert_validator().iter_errors(alert))
        assert alert["routing"]["requested"] == "db-team"
    incident = [a for a in alerts if a["source"] == "pagerduty"]
    assert [(a["message_type"], a["entity_id"]) for a in incident] == [
        (kind, f"pagerduty:{dedup_key}") for kind in ("WARNING", "ACKNOWLEDGEMENT", "RECOVERY")
    ]
    assert len({a["incident_key"] for a in incident}) == 1
    [info] = [a for a in alerts if a["source"] == "pagerduty_change"]
    assert (info["message_type"], info["entity_id"]) == (
        "INFO",
        "pagerduty-change:acme-build-pipeline",
    )
    assert info["annotations"] == [
        {"kind": "url", "title": "Build 2", "value": "https://ci.example.com/build/2"}
    ]


async def test_a_firing_sample_of_every_folder_source_comes_through(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """One firing sample of each declarative source on a URL path, through the real ingress
    and worker: what comes out is what the pure stage 1 makes of the same body. Amazon SNS's
    sample is signed by the loopback stand-in for SNS, which the ingress is told to trust."""
    from processors.pipeline import process_raw
    from tests.ingest.sns_loopback import loopback_sns
    from tests.processors.helpers import raw_input

    org, sources = new_org(), load_sources()
    stack = ExitStack()
    sns = stack.enter_context(loopback_sns(tmp_path))
    firing: dict[str, bytes] = {}
    for name, info in sorted(sources.items()):
        if info.mapping is None or not info.paths or info.keys_from:
            continue
        for path in info.samples:
            if path.suffix != ".json":
                continue
            made = process_raw(raw_input(name, path.read_bytes()), {}).alerts
            if made and all(a.message_type in ("CRITICAL", "WARNING") for a in made):
                signed = info.protocol == "amazon_sns"
                firing[name] = sns.signed_body(path) if signed else path.read_bytes()
                break
    assert {"alertmanager", "grafana", "sentry", "azure_monitor", "amazon_sns"} <= set(firing)
    expected = sorted(
        (a.source, a.message_type, a.entity_id)
        for name, body in firing.items()
        for a in process_raw(raw_input(name, body), {}).alerts
    )
    topics = ("arn:aws:sns:*:123456789012:*",)
    keys = {
        s: (await enable(pipeline.bootstrap, pipeline.topics, s, org, topic_arns=topics))[0]
        if sources[s].protocol == "amazon_sns"
        else (await enable(pipeline.bootstrap, pipeline.topics, s, org))[0]
        for s in firing
    }
    with stack:
        async with running_app(pipeline.bootstrap, pipeline.topics, sns=sns.trust) as (
            app,
            client,
        ):
            for source, key in keys.items():
                await wait_for_key(app, key, source)
                response = await client.post(
                    f"/integrations/{sources[source].paths[0]}/{key}/team-a",
                    content=firing[source],
                    headers=JSON,
                )
                assert response.status_code == 200, (source, response.text)
    records = await consume(
        pipeline.bootstrap, pipeline.topics.normalized, len(expected), by_org(org)
    )
    alerts = [json.loads(r.value) for r in records]
    assert all(not list(alert_validator().iter_errors(a)) for a in alerts)
    assert sorted((a["source"], a["message_type"], a["entity_id"]) for a in alerts) == expected


async def test_malformed_bodies_go_to_the_dead_letter_topic_intact(pipeline: Pipeline) -> None:
    org = new_org()
    key, _ = await enable(pipeline.bootstrap, pipeline.topics, "thousandeyes", org)
    bodies = {
        b'{"eventType": "ALERT_NOTIFICATION_TRIGGER", \xff': ("invalid_json", ""),
        b'{"eventType":"ALERT_NOTIFICATION_TRIGGER","eventId":"9","alert":{"alertId":1.5}}': (
            "schema",
            "$.alert.alertId",
        ),
        b'{"eventType":"ALERT_SNOOZED","eventId":"10"}': ("unknown_event_type", ""),
    }
    request_ids = {}
    async with running_app(pipeline.bootstrap, pipeline.topics) as (app, client):
        await wait_for_key(app, key, "thousandeyes")
        for body in bodies:
            response = await client.post(
                f"/integrations/thousandeyes/v1/{key}/ops", content=body, headers=JSON
            )
            assert response.status_code == 200
            request_ids[response.json()["request_id"]] = body

    records = await consume(
        pipeline.bootstrap, pipeline.topics.dead_letter, len(bodies), by_org(org)
    )
    assert len(records) == len(bodies)
    for record in records:
        headers = dict(record.headers)
        original = RawHeaders.from_kafka(record.headers)
        body = request_ids[original.request_id]
        assert record.value == body  # byte for byte
        code, path = bodies[body]
        assert (headers["error.code"].decode(), headers["error.path"].decode()) == (code, path)
        assert headers["error.message"]
        assert headers["raw.topic"].decode() == pipeline.topics.raw
        assert int(headers["raw.offset"]) >= 0
        assert original.org == org


async def test_a_routing_change_made_with_the_cli_is_used_for_the_next_alert(
    pipeline: Pipeline,
) -> None:
    org = new_org()
    key, _ = await enable(pipeline.bootstrap, pipeline.topics, "generic", org)

    async def post(entity: str) -> dict[str, Any]:
        async with running_app(pipeline.bootstrap, pipeline.topics) as (app, client):
            await wait_for_key(app, key, "generic")
            body = json.dumps({"message_type": "CRITICAL", "entity_id": entity}).encode()
            response = await client.post(
                f"/integrations/generic/v1/{key}/OPS", content=body, headers=JSON
            )
            assert response.status_code == 200
        [record] = await consume(
            pipeline.bootstrap,
            pipeline.topics.normalized,
            1,
            lambda r: r.key == f"{org}/{entity}".encode(),
        )
        alert: dict[str, Any] = json.loads(record.value)
        return alert

    before = await post("before")
    assert before["routing"] == {
        "requested": "OPS",
        "reason": "no_routes",
        "teams": [],
        "rule": None,
    }

    for args in (
        ["routes", "set", org, "ops", "--team", "night-shift"],
        ["routes", "default", org, "--team", "noc"],
    ):
        result = await asyncio.to_thread(
            subprocess.run,
            [*CLI, *args],
            env=pipeline.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    changed_at = time.monotonic()
    await asyncio.sleep(1.5)  # the worker follows the routes topic (sub-second)

    after = await post("after")
    assert after["routing"] == {
        "requested": "OPS",
        "reason": "matched",
        "teams": ["night-shift"],
        "rule": None,
    }
    assert after["routing_key"] == "ops"
    print(f"\nrouting change used {time.monotonic() - changed_at:.1f}s after the CLI returned")


def te_body(event_type: str, event_id: str, when: str) -> bytes:
    alert = {
        "alertId": 777000777,
        "ruleName": "Checkout 5xx",
        "severity": "Major",
        "active": 0 if event_type.endswith("CLEAR") else 1,
    }
    alert["dateEnd" if event_type.endswith("CLEAR") else "dateStart"] = when
    return json.dumps({"eventType": event_type, "eventId": event_id, "alert": alert}).encode()


async def test_incident_sequence_open_clear_reopen(pipeline: Pipeline) -> None:
    """trigger, trigger (new event id), redelivery (same id), clear, late trigger (older event
    time), trigger: exactly open, clear, reopen, with the suppressed counts carried."""
    org = new_org()
    key, _ = await enable(pipeline.bootstrap, pipeline.topics, "thousandeyes", org)
    trigger, clear = "ALERT_NOTIFICATION_TRIGGER", "ALERT_NOTIFICATION_CLEAR"
    bodies = [
        te_body(trigger, "e1", "2025-03-17 19:43:00"),
        te_body(trigger, "e2", "2025-03-17 19:44:00"),
        te_body(trigger, "e2", "2025-03-17 19:44:00"),  # the same event delivered again
        te_body(clear, "e3", "2025-03-17 20:05:00"),
        te_body(trigger, "e4", "2025-03-17 19:50:00"),  # older than the clear: late
        te_body(trigger, "e5", "2025-03-17 20:30:00"),
    ]
    async with running_app(pipeline.bootstrap, pipeline.topics) as (app, client):
        await wait_for_key(app, key, "thousandeyes")
        for body in bodies:  # one at a time, in order, like a sender would
            response = await client.post(
                f"/integrations/thousandeyes/v1/{key}/ops", content=body, headers=JSON
            )
            assert response.status_code == 200
    await consume(pipeline.bootstrap, pipeline.topics.normalized, 3, by_org(org))
    await asyncio.sleep(2)  # time for anything wrongly emitted after the expected three
    records = await consume(
        pipeline.bootstrap, pipeline.topics.normalized, 4, by_org(org), timeout=3
    )
    alerts = [json.loads(r.value) for r in records]
    assert [
        (a["message_type"], a["duplicates_suppressed"], a["details"]["event_id"]) for a in alerts
    ] == [("CRITICAL", 0, "e1"), ("RECOVERY", 2, "e3"), ("CRITICAL", 1, "e5")]


async def test_the_internal_topics_are_named_as_kafkaio_worker_topics_says(
    pipeline: Pipeline,
) -> None:
    """redrive, ``topics create`` and the fault accounting find the worker's topics by these
    names: a quixstreams release that renamed them fails here."""
    group = pipeline.env["ALERTPIPE_WORKER_GROUP"]
    expected = internal_topics(group, pipeline.topics.raw)
    async with connected_admin(pipeline.bootstrap, 15.0) as admin:
        present = set(await admin.list_topics())
    assert {expected.repartition, expected.changelog} <= present
    assert {t for t in present if group in t} == {expected.repartition, expected.changelog}
