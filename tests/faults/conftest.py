"""The fault suite's fixtures: a figures recorder per scenario (summarised at the end of the
run), and brokers of its own (a three-broker cluster, a single broker) that it may kill
without disturbing the session broker the other tests use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from alertpipe.localbroker.broker import LocalBroker
from alertpipe.localbroker.cluster import LocalCluster
from alertpipe.localbroker.jars import LocalKafkaError
from tests.faults.figures import Figures, save
from tests.faults.scale import SIZE

_RECORDED: list[Figures] = []


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    """``figures["lost"] = 0``...: shown when the test ends, pass or fail, and in the summary."""
    found = Figures(request.node.name.removeprefix("test_"), SIZE)
    yield found
    found.show()
    _RECORDED.append(found)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _RECORDED:
        return
    terminalreporter.section(f"fault scenarios ({SIZE}): figures")
    for found in _RECORDED:
        terminalreporter.write_line(found.line())
    save(_RECORDED)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """Three brokers (each also a controller) on their own loopback ports, 384 MiB heap each."""
    found = LocalCluster(tmp_path_factory.mktemp("cluster3"), size=3, echo=lambda _: None)
    try:
        found.start()
    except LocalKafkaError as exc:
        found.stop(timeout=10)
        pytest.fail(f"could not start the three-broker cluster: {exc}", False)
    try:
        yield found
    finally:
        found.stop(timeout=10)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A single broker of this test's own, to stop and restart."""
    broker = LocalBroker(tmp_path / "kafka", echo=lambda _: None)
    try:
        broker.start()
    except LocalKafkaError as exc:
        broker.stop(timeout=10)
        pytest.fail(f"could not start a broker of the test's own: {exc}", False)
    try:
        yield broker
    finally:
        broker.stop(timeout=10)
