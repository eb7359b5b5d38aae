from __future__ import annotations

import base64
from pathlib import Path

import pytest

from alertpipe.localbroker.config import (
    jvm_command,
    new_cluster_id,
    quorum_voters,
    render_server_properties,
)


def parse(text: str) -> dict[str, str]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_properties_bind_loopback_only_and_use_the_given_ports() -> None:
    props = parse(
        render_server_properties(
            node_id=1, broker_port=19092, controller_port=19093, data_dir=Path("/d")
        )
    )
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["log.dirs"] == "/d"
    assert props["auto.create.topics.enable"] == "false"
    assert props["offsets.topic.replication.factor"] == "1"


def test_cluster_ids_are_kafka_shaped_and_random() -> None:
    ids = {new_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    for cid in ids:
        assert len(cid) == 22
        assert not cid.startswith("-")
        assert len(base64.urlsafe_b64decode(cid + "==")) == 16


def test_jvm_command_fixes_the_heap_and_points_log4j_at_our_config() -> None:
    cmd = jvm_command(
        java="java",
        classpath="/libs/*",
        main="kafka.Kafka",
        args=["/p"],
        heap="384m",
        log4j_config=Path("/l.xml"),
    )
    assert cmd[0] == "java"
    assert {"-Xms384m", "-Xmx384m", "-Dlog4j2.configurationFile=/l.xml"} <= set(cmd)
    assert cmd[-3:] == ["/libs/*", "kafka.Kafka", "/p"]


def test_a_three_node_config_names_every_controller_and_keeps_three_copies() -> None:
    voters = quorum_voters({2: 30002, 1: 30001, 3: 30003})
    assert voters == "1@127.0.0.1:30001,2@127.0.0.1:30002,3@127.0.0.1:30003"
    props = parse(
        render_server_properties(
            node_id=2,
            broker_port=20002,
            controller_port=30002,
            data_dir=Path("/d2"),
            voters=voters,
            replication=3,
        )
    )
    assert props["node.id"] == "2"
    assert props["controller.quorum.voters"] == voters
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:20002,CONTROLLER://127.0.0.1:30002"
    assert props["offsets.topic.replication.factor"] == "3"
    assert props["default.replication.factor"] == "3"
    # acks=all needs two copies in sync: one broker down is fine, two down refuse writes.
    assert props["min.insync.replicas"] == "2"
    assert props["transaction.state.log.min.isr"] == "2"


def test_the_sasl_ssl_listener_replaces_plaintext(tmp_path: Path) -> None:
    from alertpipe.localbroker.config import SaslSslListener, scram_format_args

    secure = SaslSslListener(tmp_path / "b.p12", "storepw", tmp_path / "ca.pem", "alertpipe", "pw")
    text = render_server_properties(
        node_id=1, broker_port=9093, controller_port=9094, data_dir=tmp_path, secure=secure
    )
    props = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    assert props["listeners"] == "SASL_SSL://127.0.0.1:9093,CONTROLLER://127.0.0.1:9094"
    assert props["inter.broker.listener.name"] == "SASL_SSL"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-256,SCRAM-SHA-512,PLAIN"
    assert "PLAINTEXT://" not in props["listeners"]
    assert scram_format_args("alertpipe", "pw")[-1] == "SCRAM-SHA-512=[name=alertpipe,password=pw]"


def test_the_mutual_tls_listener_requires_client_certificates_and_no_sasl(tmp_path: Path) -> None:
    from alertpipe.localbroker.config import MutualTlsListener

    secure = MutualTlsListener(tmp_path / "b.p12", "storepw", tmp_path / "ca.pem")
    props = parse(
        render_server_properties(
            node_id=1, broker_port=9093, controller_port=9094, data_dir=tmp_path, secure=secure
        )
    )
    assert props["listeners"] == "SSL://127.0.0.1:9093,CONTROLLER://127.0.0.1:9094"
    assert props["listener.security.protocol.map"] == "SSL:SSL,CONTROLLER:PLAINTEXT"
    assert props["inter.broker.listener.name"] == "SSL"
    assert props["ssl.client.auth"] == "required"
    assert props["ssl.truststore.location"] == str(tmp_path / "ca.pem")
    assert not any(key.startswith("sasl.") for key in props)
    with pytest.raises(ValueError, match="SASL_SSL"):
        render_server_properties(
            node_id=1, broker_port=9093, controller_port=9094, data_dir=tmp_path, secure=secure,
            authorizer=True,
        )  # fmt: skip


def test_the_authorizer_denies_what_no_acl_allows_and_needs_sasl(tmp_path: Path) -> None:
    from alertpipe.localbroker.config import SaslSslListener, render_log4j_config

    secure = SaslSslListener(tmp_path / "b.p12", "storepw", tmp_path / "ca.pem", "alertpipe", "pw")
    props = parse(
        render_server_properties(
            node_id=1, broker_port=9093, controller_port=9094, data_dir=tmp_path, secure=secure,
            authorizer=True,
        )
    )  # fmt: skip
    assert props["authorizer.class.name"].endswith(".StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    # the broker's own SASL user, and the broker itself on the PLAINTEXT controller listener
    assert props["super.users"] == "User:alertpipe;User:ANONYMOUS"
    assert 'kafka.authorizer.logger" level="debug' in render_log4j_config(tmp_path, True)
    with pytest.raises(ValueError, match="SASL_SSL"):
        render_server_properties(
            node_id=1, broker_port=9093, controller_port=9094, data_dir=tmp_path, authorizer=True
        )


def test_a_state_dir_keeps_its_security_mode(tmp_path: Path) -> None:
    from alertpipe.localbroker.config import BrokerLayout
    from alertpipe.localbroker.jars import LocalKafkaError
    from alertpipe.localbroker.secured import marker_text, resolve_mode

    layout = BrokerLayout(tmp_path)
    assert resolve_mode(layout, None) == "plaintext"
    layout.data_dir.mkdir()
    layout.formatted_marker.write_text(marker_text("sasl_ssl"))
    assert resolve_mode(layout, None) == "sasl_ssl"
    with pytest.raises(LocalKafkaError, match="was formatted for --security sasl_ssl"):
        resolve_mode(layout, "plaintext")
    layout.formatted_marker.write_text(marker_text("ssl"))
    assert resolve_mode(layout, None) == "ssl"
    with pytest.raises(LocalKafkaError, match="was formatted for --security ssl"):
        resolve_mode(layout, "sasl_ssl")
