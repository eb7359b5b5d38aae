"""`alertpipe incidents list|show` on the real broker: a running `alertpipe worker` decides raw
records, and the CLI reads back from its changelog what it holds (and stops listing what its
TTL forgot)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from alertpipe.harness import CLI, fresh_topics, spawn, wait_worker_ready, worker_env
from kafkaio.settings import TopicSettings
from processors.routestore import publish_routes
from processors.routing import config_from_json
from schemas.raw import RawHeaders, raw_record_key
from tests.processors.faults import produce
from tests.processors.test_worker_e2e import by_org, consume

ORG = "inc"
ENTITIES = ("db-", "web-", "q-", "x-")  # the first test's (the ack test's are op-)


@pytest.fixture(scope="module")
def worker(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TopicSettings, dict[str, str]]]:
    """A worker on fresh topics that forgets resolved incidents 3 s after their last event;
    the org's routing key ops goes to the teams operations and dba."""
    topics = asyncio.run(fresh_topics(kafka_bootstrap, partitions=2))
    routes = config_from_json(ORG, {"routes": {"ops": ["operations", "dba"]}})
    asyncio.run(publish_routes(kafka_bootstrap, topics.routes, routes))
    data = tmp_path_factory.mktemp("incidents-worker")
    env = worker_env(kafka_bootstrap, topics, data / "state", ALERTPIPE_RESOLVED_TTL_S="3")
    proc = spawn("worker", ["worker"], env, data / "worker.log")
    try:
        wait_worker_ready(proc)
        yield topics, env
    finally:
        proc.stop()
    assert "Traceback" not in proc.text(), proc.tail()


def generic(message_type: str, entity: str, at: int) -> tuple[bytes, bytes, list[Any]]:
    body = {"message_type": message_type, "entity_id": entity, "timestamp": at // 1000}
    headers = RawHeaders("generic", ORG, "k1", "ops", "application/json", at, "r", "::1", "t")
    return raw_record_key(ORG, "ops"), json.dumps(body).encode(), headers.to_kafka()


def incidents(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "incidents", *args], env=env, capture_output=True, text=True, timeout=60
    )


def listed(
    env: dict[str, str],
    want: set[str],
    timeout: float = 30,
    match: str | tuple[str, ...] = "",
    status: str | None = None,
) -> dict[str, Any]:
    """`incidents list --json` by entity id (those starting with ``match``), once it lists
    exactly ``want`` (in ``status``): the worker's state reaches the changelog at its next
    commit."""
    deadline = time.monotonic() + timeout
    while True:
        done = incidents(env, "list", "--org", ORG, "--json")
        assert done.returncode == 0, done.stderr
        found = {
            i["entity_id"]: i
            for i in map(json.loads, done.stdout.splitlines())
            if i["entity_id"].startswith(match) and status in (None, i["status"])
        }
        if set(found) == want or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_list_and_show_what_the_worker_holds(
    kafka_bootstrap: str, worker: tuple[TopicSettings, dict[str, str]]
) -> None:
    topics, env = worker
    now = int(time.time() * 1000)
    records = [
        generic("CRITICAL", "db-1", now),
        generic("CRITICAL", "db-1", now + 1000),  # a repeat: suppressed
        generic("WARNING", "web-2", now),
        generic("ACKNOWLEDGEMENT", "web-2", now + 2000),
        generic("RECOVERY", "q-3", now),  # for no incident: emitted, held as resolved
        generic("INFO", "x-9", now),  # never held
    ]
    asyncio.run(produce(kafka_bootstrap, topics.raw, records, seconds=0))
    emitted = asyncio.run(consume(kafka_bootstrap, topics.normalized, 5, by_org(ORG)))
    assert len(emitted) == 5
    # db-1's one emitted alert is its first CRITICAL (the second was suppressed); the
    # normalized topic has two partitions, so it need not be the first consumed
    (opener,) = [a for a in map(json.loads, (r.value for r in emitted)) if a["entity_id"] == "db-1"]

    found = listed(env, {"db-1", "web-2", "q-3"}, match=ENTITIES)
    assert set(found) == {"db-1", "web-2", "q-3"}
    db = found["db-1"]
    assert (db["status"], db["severity"], db["events"], db["suppressed"]) == (
        "open", "CRITICAL", 2, 1,
    )  # fmt: skip
    assert (db["first_seen"], db["last_seen"]) == (now, now + 1000)
    assert db["opened_by"] == {"alert_id": opener["alert_id"], "source": "generic"}
    assert found["web-2"]["status"] == "acknowledged"

    only_open = incidents(env, "list", "--status", "open", "--source", "generic", "--json")
    assert [json.loads(line)["entity_id"] for line in only_open.stdout.splitlines()] == ["db-1"]
    assert db["teams"] == opener["routing"]["teams"] == ["operations", "dba"]
    of_dba = incidents(env, "list", "--team", "dba", "--status", "acknowledged", "--json")
    assert [json.loads(line)["entity_id"] for line in of_dba.stdout.splitlines()] == ["web-2"]
    assert incidents(env, "list", "--team", "noc", "--json").stdout == ""

    shown = incidents(env, "show", ORG, "web-2")
    assert shown.returncode == 0, shown.stderr
    assert "acknowledged WARNING" in shown.stdout
    assert "generic alert " in shown.stdout
    assert "teams            operations, dba" in shown.stdout
    missing = incidents(env, "show", ORG, "x-9")
    assert missing.returncode == 1
    assert "no state held for inc/x-9" in missing.stderr

    # q-3 was resolved: 3 s later it is forgotten, listed no more (deleted or not yet)
    time.sleep(3.5)
    assert set(listed(env, {"db-1", "web-2"}, match=ENTITIES)) == {"db-1", "web-2"}


def test_no_changelog_is_one_clear_error(worker: tuple[TopicSettings, dict[str, str]]) -> None:
    _, env = worker
    done = incidents({**env, "ALERTPIPE_WORKER_GROUP": "no-such-group"}, "list")
    assert done.returncode == 1
    assert "no changelog changelog__no-such-group--" in done.stderr


def test_ack_and_resolve_go_through_the_pipeline(
    kafka_bootstrap: str, worker: tuple[TopicSettings, dict[str, str]]
) -> None:
    topics, env = worker
    now = int(time.time() * 1000)
    asyncio.run(produce(kafka_bootstrap, topics.raw, [generic("CRITICAL", "op-1", now)], 0))
    assert listed(env, {"op-1"}, match="op-")["op-1"]["status"] == "open"

    dry = incidents(env, "ack", ORG, "op-1", "--by", "ana", "-m", "on it")
    assert dry.returncode == 0, dry.stderr
    assert "open CRITICAL" in dry.stdout
    assert "emitted (acknowledge)" in dry.stdout
    assert "nothing recorded" in dry.stderr

    acked = incidents(env, "ack", ORG, "op-1", "--by", "ana", "-m", "on it", "--yes")
    assert acked.returncode == 0, acked.stderr
    ref = acked.stdout.split("recorded ")[1].split()[0]
    assert listed(env, {"op-1"}, match="op-", status="acknowledged")["op-1"]["events"] == 2

    resolved = incidents(env, "resolve", ORG, "op-1", "--by", "ana", "--yes")
    assert resolved.returncode == 0, resolved.stderr
    assert listed(env, {"op-1"}, match="op-", status="resolved")

    def of_op(record: Any) -> bool:
        return bool(record.key == f"{ORG}/op-1".encode())

    out = asyncio.run(consume(kafka_bootstrap, topics.normalized, 3, of_op))
    alerts = [json.loads(r.value) for r in out]
    assert [a["message_type"] for a in alerts] == ["CRITICAL", "ACKNOWLEDGEMENT", "RECOVERY"]
    assert alerts[1]["details"]["ack_author"] == "ana"
    assert alerts[1]["details"]["ack_msg"] == "on it"
    explained = subprocess.run(
        [*CLI, "explain", ref], env=env, capture_output=True, text=True, timeout=60
    )
    assert explained.returncode == 0, explained.stderr
    assert "ACKNOWLEDGEMENT" in explained.stdout
