"""`alertpipe maintenance` on the real broker: a running `alertpipe worker` marks the alerts a
window covers while alerts flow, stops when the window is ended mid-flow, loses none, and
`alertpipe replay` and `explain` show the same window afterwards."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from click.testing import CliRunner

from alertpipe.cli import cli
from alertpipe.harness import CLI, fresh_topics, spawn, wait_worker_ready, worker_env
from alertpipe.ports import free_port
from kafkaio.settings import TopicSettings
from schemas.normalized import ref_text
from schemas.raw import RawHeaders, raw_record_key
from tests.conftest import NewTopicFactory
from tests.processors.test_worker_e2e import by_org, consume

ORG = "mnt"
EVERY_S = 0.1  # one alert per 100 ms, each for its own entity (so each one is emitted)


def alertpipe(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done


async def cli_async(env: dict[str, str], *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *CLI, *args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


def raw_alert(n: int, routing_key: str) -> tuple[bytes, bytes, list[Any]]:
    at = int(time.time() * 1000)
    body = {"message_type": "CRITICAL", "entity_id": f"host-{n}"}
    headers = RawHeaders("generic", ORG, "k1", routing_key, "application/json", at, f"r{n}",
                         "::1", "t")  # fmt: skip
    return raw_record_key(ORG, routing_key), json.dumps(body).encode(), headers.to_kafka()


async def flow_while(topics: TopicSettings, bootstrap: str, env: dict[str, str]) -> dict[str, Any]:
    """Alerts every 100 ms (routing key ops, every fifth one web) while a window for ops is
    started, then ended: the window's id, what `end` said, how many alerts were sent."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await producer.start()
    stop = asyncio.Event()

    async def produce() -> int:
        n = 0
        while not stop.is_set():
            key, value, headers = raw_alert(n, "web" if n % 5 == 4 else "ops")
            await producer.send_and_wait(topics.raw, value, key=key, headers=headers)
            n += 1
            await asyncio.sleep(EVERY_S)
        return n

    flowing = asyncio.create_task(produce())
    try:
        await asyncio.sleep(0.5)
        started = await cli_async(
            env, "maintenance", "start", "--org", ORG, "--routing-key", "ops", "--for", "1h",
            "--reason", "db upgrade", "--json",
        )  # fmt: skip
        window_id = json.loads(started)["id"]
        await asyncio.sleep(3.0)  # it takes effect 2 s after the command: 1 s of marked alerts
        ended = await cli_async(env, "maintenance", "end", window_id)
        await asyncio.sleep(3.0)  # it ends 2 s after the command: 1 s of unmarked alerts
    finally:
        stop.set()
        sent = await flowing
        await producer.stop()
    return {"id": window_id, "ended": ended, "sent": sent}


@pytest.mark.kafka
def test_a_window_marks_alerts_until_it_ends_and_replay_shows_it(
    kafka_bootstrap: str, tmp_path: Path, new_topic: NewTopicFactory
) -> None:
    topics = asyncio.run(fresh_topics(kafka_bootstrap, partitions=1))
    env = worker_env(kafka_bootstrap, topics, tmp_path / "state")
    proc = spawn("worker", ["worker"], env, tmp_path / "worker.log")
    try:
        wait_worker_ready(proc)
        flowed = asyncio.run(flow_while(topics, kafka_bootstrap, env))
        assert f"{flowed['id']}: ends at " in flowed["ended"]
        listed = alertpipe(env, "maintenance", "list", "--all", "--json", "--org", ORG).stdout
        [window] = [json.loads(line) for line in listed.splitlines()]
        assert window["id"] == flowed["id"]
        assert window["state"] == "ended"
        assert not alertpipe(env, "maintenance", "list", "--org", ORG, "--json").stdout
        table = alertpipe(env, "maintenance", "list", "--all").stdout.splitlines()
        assert table[0].split() == ["ID", "ORG", "STATE", "START", "UNTIL", "SCOPE", "/", "REASON"]
        assert table[1].split()[:3] == [window["id"], ORG, "ended"]
        assert table[1].endswith("routing key ops: db upgrade")
        twice = subprocess.run([*CLI, "maintenance", "end", window["id"]], env=env,
                               capture_output=True, text=True, timeout=60)  # fmt: skip
        assert twice.returncode == 1
        assert twice.stderr.endswith(f"error: maintenance window {window['id']} is already over\n")
        start, end = window["start"], window["ended_at"]
        records = asyncio.run(
            consume(kafka_bootstrap, topics.normalized, flowed["sent"], by_org(ORG), timeout=30)
        )
    finally:
        proc.stop()
    assert "Traceback" not in proc.text(), proc.tail()

    # none lost: every alert sent was delivered once
    delivered = {json.loads(r.value)["alert_id"]: r.value for r in records}
    assert len(delivered) == len(records) == flowed["sent"] > 50
    stamp = {"id": window["id"], "reason": "db upgrade", "until": window["until"]}
    marked = []
    for value in delivered.values():
        alert = json.loads(value)
        covered = alert["routing"]["requested"] == "ops" and start <= alert["received_at"] < end
        assert alert.get("maintenance") == (stamp if covered else None), alert
        marked.append(covered)
    # ops alerts before the window, in it and after it ended; web's never (another key)
    ops = [a["received_at"] for a in map(json.loads, delivered.values())
           if a["routing"]["requested"] == "ops"]  # fmt: skip
    assert marked.count(True) >= 5, marked
    assert sum(at < start for at in ops) >= 3
    assert sum(at >= end for at in ops) >= 3
    # replay: the same windows for the same alerts, and the same bytes
    replayed = alertpipe(env, "replay", "--since", "10m", "--org", ORG, "--json").stdout
    outcomes = {o["alert_id"]: o for o in map(json.loads, replayed.splitlines())}
    assert set(outcomes) == set(delivered)
    for alert_id, value in delivered.items():
        got = outcomes[alert_id].get("maintenance")
        assert (got["id"] if got else None) == json.loads(value).get("maintenance", {}).get("id")
    text = alertpipe(env, "replay", "--since", "10m", "--org", ORG).stdout
    assert text.count(f"maintenance {window['id']}") == marked.count(True)
    again = asyncio.run(new_topic())
    alertpipe(env, "replay", "--since", "10m", "--org", ORG, "--to-topic", again, "-q")
    republished = asyncio.run(consume(kafka_bootstrap, again, len(records), by_org(ORG)))
    assert [r.value for r in republished] == [r.value for r in records]
    # explain a marked alert, as delivered
    ref = next(
        ref_text(r.topic, r.partition, r.offset) for r in records if b"maintenance" in r.value
    )
    explained = alertpipe(env, "explain", ref).stdout
    assert f"maintenance    {window['id']} until " in explained
    assert f"maintenance {window['id']}" in explained.split("delivered")[1]
    assert "the replay gives" not in explained
    as_json = json.loads(alertpipe(env, "explain", ref, "--json").stdout)
    assert as_json["delivered"]["maintenance"] == stamp
    assert as_json["incident"][0]["maintenance"]["id"] == window["id"]
    tailed = alertpipe(env, "tail", "normalized", "--from-beginning", "--org", ORG).stdout
    assert tailed.count(f"maintenance {window['id']}") == marked.count(True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--for", "2h", "--until", "2030-01-01"], "give one of --for"),
        ([], "give one of --for"),
        (["--until", "2h"], "a time, not a length (use --for 2h)"),
        (["--until", "2001-01-01"], "end before it starts"),
        (["--for", "31d"], "at most 30 days"),
        (["--for", "soon"], "'soon' is not a length"),
        (["--for", "1h", "--org", "Acme!"], "org 'Acme!'"),
        (["--for", "1h", "--source", "nope"], "unknown source 'nope'"),
    ],
)
def test_start_refuses_what_it_cannot_keep_before_asking_kafka(
    args: list[str], message: str
) -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}
    org = [] if "--org" in args else ["--org", "acme"]
    result = CliRunner().invoke(
        cli, ["maintenance", "start", *org, "--reason", "r", *args], env=env
    )
    assert result.exit_code == 2, result.output
    assert message in result.output


@pytest.mark.kafka
def test_a_worker_without_the_maintenance_topic_says_so(
    kafka_bootstrap: str, new_topic: NewTopicFactory
) -> None:
    raw = asyncio.run(new_topic())
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "ALERTPIPE_TOPIC_RAW": raw,
           "ALERTPIPE_TOPIC_MAINTENANCE": f"{raw}.maintenance"}  # fmt: skip
    done = subprocess.run([*CLI, "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.endswith(
        f"error: topic {raw}.maintenance does not exist: run `alertpipe topics create`\n"
    )
