"""The whole stack against a broker that requires client certificates (``alertpipe kafka start
--security ssl``, started through the CLI once for the module): a webhook goes through a real
ingress and worker (aiokafka and librdkafka, each presenting the certificate and reading its
encrypted key's password from a file) and ``alertpipe tail`` reads it back; no certificate,
or one from another CA, is refused at once, with the reason."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alertpipe.harness import fresh_topics, pipeline_env
from alertpipe.localbroker.tls import ClientTls
from kafkaio.clients import KafkaConnection
from kafkaio.env import Env
from kafkaio.security import load_security
from kafkaio.settings import prefixed_topics
from tests.conftest import SecureKafka
from tests.ingest.kafka_helpers import enable
from tests.kafkaio.test_security_e2e import cli, webhook_round_trip

pytestmark = pytest.mark.kafka

FIXTURES = Path(__file__).parents[1] / "fixtures"
ORG = "mtls-org"
CLIENT_TLS = ("KAFKA_SSL_CERT_FILE", "KAFKA_SSL_KEY_FILE", "KAFKA_SSL_KEY_PASSWORD_FILE")


@pytest.fixture(scope="module")
def mtls_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    """``alertpipe kafka start --security ssl`` in a state dir of its own; its stdout, the
    client settings, read as any operator's shell would."""
    state_dir = str(tmp_path_factory.mktemp("kafka-mtls"))
    started = cli(["kafka", "start", "--security", "ssl", "--state-dir", state_dir,
                   "--heap", "384m"], environ_without_kafka(), timeout=180)  # fmt: skip
    try:
        assert started.returncode == 0, started.stderr
        env = dict(line.split("=", 1) for line in started.stdout.splitlines())
        yield SecureKafka(env, KafkaConnection(env["KAFKA_BOOTSTRAP_SERVERS"],
                                               load_security(Env(env))))  # fmt: skip
    finally:
        cli(["kafka", "stop", "--state-dir", state_dir], environ_without_kafka())


def environ_without_kafka() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}


def test_kafka_start_prints_the_mutual_tls_client_settings(mtls_kafka: SecureKafka) -> None:
    env = mtls_kafka.env
    assert list(env) == ["KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SECURITY_PROTOCOL",
                         "KAFKA_SSL_CA_FILE", *CLIENT_TLS]  # fmt: skip
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SSL"
    key = Path(env["KAFKA_SSL_KEY_FILE"])
    assert key.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    for secret in (key, Path(env["KAFKA_SSL_KEY_PASSWORD_FILE"])):
        assert secret.stat().st_mode & 0o077 == 0, secret


def test_a_webhook_goes_through_ingress_and_worker_over_mutual_tls(
    mtls_kafka: SecureKafka, tmp_path: Path
) -> None:
    kafka = mtls_kafka.kafka
    topics = asyncio.run(fresh_topics(kafka, partitions=1, prefix="mtls"))
    key, _ = asyncio.run(enable(kafka, topics, "generic", ORG))
    env = pipeline_env(kafka, topics)
    assert {name: env[name] for name in CLIENT_TLS} == {n: mtls_kafka.env[n] for n in CLIENT_TLS}
    assert "KAFKA_SSL_KEY_PASSWORD" not in env  # the file travels, never the password
    alert = webhook_round_trip(kafka, topics, key, env, tmp_path)
    assert alert["org"] == ORG


@pytest.mark.parametrize("case", ["no certificate", "another CA's certificate"])
def test_a_refused_client_certificate_fails_fast_and_says_why(
    mtls_kafka: SecureKafka, other_ca_client: ClientTls, case: str
) -> None:
    env = pipeline_env(mtls_kafka.kafka, prefixed_topics("never-created"))
    for name in CLIENT_TLS:
        del env[name]
    # The alert's name between them (Kafka's JVM: bad certificate, certificate unknown)
    # depends on the JDK; what to do does not.
    if case == "no certificate":
        expected = ("the broker requires a client certificate (mutual TLS, ",
                    "): set KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE")  # fmt: skip
    else:
        mine = (other_ca_client.cert_pem, other_ca_client.key_pem,
                other_ca_client.key_password_file)  # fmt: skip
        env.update(zip(CLIENT_TLS, map(str, mine), strict=True))
        expected = (f"the broker refused the client certificate KAFKA_SSL_CERT_FILE="
                    f"'{other_ca_client.cert_pem}' (", "): is it signed by a CA the broker "
                    "trusts?")  # fmt: skip
    for command in (["topics", "create", "--timeout", "20"], ["worker"]):
        started = time.monotonic()
        done = cli(command, env)
        assert done.returncode == 69, done.stdout + done.stderr
        assert all(part in done.stderr for part in expected), done.stderr
        assert time.monotonic() - started < 20  # one refused connection, not a timeout
