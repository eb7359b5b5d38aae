"""Every Kafka client of alertpipe is made by ``kafkaio.clients`` (aiokafka) or by the worker's
``create_application`` (quixstreams, given ``broker_address``), so none can miss the TLS and
SASL settings; and the two translations of those settings say the same thing."""

from __future__ import annotations

import ast
from pathlib import Path

from kafkaio.clients import KafkaConnection, connection
from kafkaio.secret import Secret
from kafkaio.security import KafkaSecurity

ROOT = Path(__file__).parents[2]
PACKAGES = ("alertpipe", "bench", "ingest", "kafkaio", "processors", "schemas")
CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient", "Application"}
CONFLUENT = {"Producer", "Consumer", "AdminClient"}
# Where each client kind may be constructed.
FACTORIES = {"kafkaio/clients.py", "processors/worker/app.py"}


def constructions() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            tree = ast.parse(path.read_text())
            confluent = any(
                isinstance(n, ast.ImportFrom) and (n.module or "").startswith("confluent_kafka")
                for n in ast.walk(tree)
            )
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if (name in CLIENTS or (confluent and name in CONFLUENT)) and (
                    where not in FACTORIES
                ):
                    found.append(f"{where}:{node.lineno}: {name}(...)")
    return found


def test_no_kafka_client_is_built_outside_the_factories() -> None:
    assert constructions() == [], "build clients with kafkaio.clients.new_* instead"


def test_the_worker_application_gets_the_connection_settings() -> None:
    tree = ast.parse((ROOT / "processors/worker/app.py").read_text())
    [call] = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "Application"
    ]
    [address] = [k.value for k in call.keywords if k.arg == "broker_address"]
    assert isinstance(address, ast.Call)
    assert getattr(address.func, "id", "") == "broker_address"


def scram(tmp_path: Path) -> KafkaSecurity:
    ca = tmp_path / "ca.pem"
    ca.write_text("unused")
    return KafkaSecurity(
        "SASL_SSL", ca, None, None, None, "SCRAM-SHA-512", "alertpipe", Secret("s3cret")
    )


def test_a_bare_address_is_plaintext() -> None:
    kafka = connection("k:9092")
    assert kafka.client_args() == {"bootstrap_servers": "k:9092", "security_protocol": "PLAINTEXT"}
    assert kafka.librdkafka_config() == {
        "bootstrap.servers": "k:9092",
        "security.protocol": "plaintext",
    }


def test_librdkafka_keys_of_sasl_ssl(tmp_path: Path) -> None:
    kafka = KafkaConnection("k:9093", scram(tmp_path))
    assert kafka.librdkafka_config() == {
        "bootstrap.servers": "k:9093",
        "security.protocol": "sasl_ssl",
        "ssl.ca.location": str(tmp_path / "ca.pem"),
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "alertpipe",
        "sasl.password": "s3cret",
    }
    assert "s3cret" not in repr(kafka)


def test_quixstreams_takes_the_librdkafka_keys(tmp_path: Path) -> None:
    from processors.worker.app import broker_address

    config = broker_address(KafkaConnection("k:9093", scram(tmp_path)))
    assert (
        config.as_librdkafka_dict()
        == KafkaConnection("k:9093", scram(tmp_path)).librdkafka_config()
    )
    assert "s3cret" not in repr(config)
