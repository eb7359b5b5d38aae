"""The whole stack against a broker that needs TLS and SASL (``alertpipe kafka start
--security sasl_ssl``): a webhook goes through a real ingress and worker to the normalized
topic and a CLI command reads it back; a wrong password or an untrusted CA fails at once, with
the reason, not after a hang."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertpipe.harness import CLI, fresh_topics, pipeline_env, worker_env
from kafkaio.admin import fetch_cluster
from kafkaio.clients import KafkaConnection
from kafkaio.env import Env
from kafkaio.security import load_security
from kafkaio.settings import TopicSettings, prefixed_topics
from tests.conftest import SecureKafka
from tests.faults.processes import running_ingress, running_worker
from tests.ingest.kafka_helpers import enable

FIXTURES = Path(__file__).parents[1] / "fixtures"
ORG = "secure-org"


def cli(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def webhook_round_trip(
    kafka: KafkaConnection, topics: TopicSettings, key: str, env: dict[str, str], tmp_path: Path
) -> dict[str, Any]:
    """POST generic's critical sample through a real ingress and worker (``env``: the pipeline's
    settings), read it back with ``alertpipe tail``; the normalized alert."""
    body = (FIXTURES / "generic" / "critical.json").read_bytes()
    with (
        running_worker(worker_env(kafka, topics, tmp_path / "data"), tmp_path / "worker.log"),
        running_ingress(env, tmp_path / "ingress.log") as ingress,
    ):
        url = f"{ingress.base_url}/integrations/generic/20131114/alert/{key}/ops"
        answer = httpx.post(url, content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + 60
        while True:
            tail = cli(["tail", "normalized", "--from-beginning", "--json"], env)
            assert tail.returncode == 0, tail.stderr
            if tail.stdout.strip():
                break
            assert time.monotonic() < deadline, "no normalized alert within 60s"
            time.sleep(0.5)
    [line] = tail.stdout.strip().splitlines()
    alert: dict[str, Any] = json.loads(line)["alert"]
    assert alert["entity_id"] == json.loads(body)["entity_id"]
    return alert


def test_a_webhook_goes_through_ingress_and_worker_over_sasl_ssl(
    secure_kafka: SecureKafka, tmp_path: Path
) -> None:
    kafka = secure_kafka.kafka
    topics = asyncio.run(fresh_topics(kafka, partitions=1, prefix="sasl"))
    key, _ = asyncio.run(enable(kafka, topics, "generic", ORG))
    env = pipeline_env(kafka, topics)
    assert env["KAFKA_SASL_PASSWORD_FILE"] == secure_kafka.env["KAFKA_SASL_PASSWORD_FILE"]
    assert "KAFKA_SASL_PASSWORD" not in env  # the file travels, never the password
    alert = webhook_round_trip(kafka, topics, key, env, tmp_path)
    assert alert["org"] == ORG


def test_every_mechanism_the_broker_offers(secure_kafka: SecureKafka) -> None:
    for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"):
        env = {**secure_kafka.env, "KAFKA_SASL_MECHANISM": mechanism}
        kafka = KafkaConnection(env["KAFKA_BOOTSTRAP_SERVERS"], load_security(Env(env)))
        asyncio.run(fetch_cluster(kafka, 10))


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong password", "SASL authentication failed for user 'alertpipe' with SCRAM-SHA-512"),
        ("untrusted CA", "TLS: the broker's certificate is not trusted"),
    ],
)
def test_a_refused_connection_fails_fast_and_says_why(
    secure_kafka: SecureKafka, other_ca: Path, tmp_path: Path, case: str, expected: str
) -> None:
    env = pipeline_env(secure_kafka.kafka, prefixed_topics("never-created"))
    if case == "wrong password":
        wrong = tmp_path / "password"
        wrong.write_text("not-the-password\n")
        env["KAFKA_SASL_PASSWORD_FILE"] = str(wrong)
    else:
        env["KAFKA_SSL_CA_FILE"] = str(other_ca)
    for command in (["topics", "create", "--timeout", "20"], ["worker"]):
        started = time.monotonic()
        done = cli(command, env)
        assert done.returncode == 69, done.stdout + done.stderr
        assert expected in done.stderr
        assert time.monotonic() - started < 20  # one refused connection, not a timeout
