from __future__ import annotations

import pytest

from alertpipe.localbroker.choice import BrokerKind, choose_broker


def docker_must_not_be_asked() -> bool:
    raise AssertionError("Docker was probed although the answer could not matter")


def test_env_var_wins_for_tests_and_run() -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": " k1:9092,k2:9092 "}
    for purpose in ("tests", "run"):
        choice = choose_broker(env, purpose, docker_must_not_be_asked)
        assert choice.kind is BrokerKind.EXTERNAL
        assert choice.bootstrap_servers == "k1:9092,k2:9092"


@pytest.mark.parametrize(
    ("docker", "kind"), [(True, BrokerKind.TESTCONTAINERS), (False, BrokerKind.LOCAL)]
)
def test_tests_use_testcontainers_only_when_docker_answers(docker: bool, kind: BrokerKind) -> None:
    choice = choose_broker({"KAFKA_BOOTSTRAP_SERVERS": ""}, "tests", lambda: docker)
    assert choice.kind is kind
    assert choice.bootstrap_servers is None


def test_run_never_uses_testcontainers() -> None:
    assert choose_broker({}, "run", docker_must_not_be_asked).kind is BrokerKind.LOCAL


def test_docker_probe_says_no_without_a_daemon(tmp_path: object) -> None:
    from alertpipe.localbroker.choice import docker_daemon_answers
    from alertpipe.ports import free_port

    assert docker_daemon_answers({"DOCKER_HOST": f"unix://{tmp_path}/absent.sock"}) is False
    assert docker_daemon_answers({"DOCKER_HOST": f"tcp://127.0.0.1:{free_port()}"}) is False
    assert docker_daemon_answers({"DOCKER_HOST": "ssh://somewhere"}) is False


def test_the_docker_path_imports_cleanly() -> None:
    """Machines with Docker take the testcontainers path; it cannot run here, but it must at
    least import without warnings (which this suite turns into errors) and offer KRaft."""
    from testcontainers.community.kafka import KafkaContainer

    assert callable(KafkaContainer.with_kraft)
    assert callable(KafkaContainer.get_bootstrap_server)
