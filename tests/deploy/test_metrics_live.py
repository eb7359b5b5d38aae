"""Every metric and label the dashboard and the alert rules query exists in the /metrics of
a real `alertpipe ingress` and a real `alertpipe worker` on the test broker, after a few
webhooks (good, repeated, malformed, unauthorised) made their labelled series appear. The
worker's probes and sampled gauges are checked on the way."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from alertpipe.harness import fresh_topics, worker_env
from alertpipe.ports import free_port
from kafkaio.settings import TopicSettings
from kafkaio.worker_topics import internal_topics
from tests.deploy.queries import SYNTHETIC, dashboard_queries, rule_queries, selectors
from tests.ingest.kafka_helpers import enable, ingress_process
from tests.processors.faults import stop_worker
from tests.processors.test_worker_e2e import wait_until_ready

OPERATIONS = Path(__file__).parents[2] / "docs" / "operations.md"
PARTITIONS = 2
Labels = dict[str, set[str]]  # sample name -> label names seen on it


@dataclass
class Live:
    ingress: str
    worker: str
    bootstrap: str
    topics: TopicSettings
    group: str

    @property
    def repartition(self) -> str:
        """The worker's repartition topic (stage 1's alerts by incident key, read by stage 2)."""
        repartition = internal_topics(self.group, self.topics.raw).repartition
        assert repartition is not None
        return repartition


def scrape(url: str) -> tuple[Labels, list[tuple[str, dict[str, str], float]]]:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    labels: Labels = {}
    samples = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)
            samples.append((sample.name, sample.labels, sample.value))
    return labels, samples


def wait_for(what: str, check: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"not within {timeout:.0f}s: {what}")


@pytest.fixture(scope="module")
def live(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    topics = asyncio.run(fresh_topics(kafka_bootstrap, partitions=PARTITIONS))
    worker_port, ingress_port = free_port(), free_port()
    env = {
        **worker_env(kafka_bootstrap, topics, tmp_path_factory.mktemp("worker")),
        "ALERTPIPE_WORKER_METRICS_PORT": str(worker_port),
    }
    log = tmp_path_factory.mktemp("worker-log") / "worker.log"
    argv = [sys.executable, "-m", "alertpipe.cli", "worker"]
    with (
        log.open("w") as out,
        subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT) as worker,
    ):
        try:
            wait_until_ready(worker, log)
            with ingress_process(env, ingress_port) as ingress:
                yield Live(
                    f"http://127.0.0.1:{ingress_port}",
                    f"http://127.0.0.1:{worker_port}",
                    kafka_bootstrap,
                    topics,
                    env["ALERTPIPE_WORKER_GROUP"],
                )
                ingress.terminate()
        finally:
            stop_worker(worker)
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def send_webhooks(live: Live) -> None:
    generic, _ = asyncio.run(enable(live.bootstrap, live.topics, "generic"))
    te, _ = asyncio.run(enable(live.bootstrap, live.topics, "thousandeyes"))
    json_type = {"content-type": "application/json"}

    def post(path: str, body: bytes) -> int:
        url = f"{live.ingress}/integrations/{path}"
        return httpx.post(url, content=body, headers=json_type, timeout=30).status_code

    alert = json.dumps({"message_type": "CRITICAL", "entity_id": "disk/db01"}).encode()
    wait_for(
        "the ingress accepts the new key",
        lambda: post(f"generic/v1/{generic}/ops", alert) == 200,
        30,
    )
    assert post(f"generic/v1/{generic}/ops", alert) == 200  # the same again: suppressed
    assert post(f"thousandeyes/v1/{te}/ops", b'{"eventType": \xff') == 200  # dead letter
    assert post("generic/v1/not-a-key/ops", alert) == 404  # refused


def test_every_metric_the_dashboard_and_rules_query_exists(live: Live) -> None:
    send_webhooks(live)

    def worker_has_everything() -> bool:
        labels, samples = scrape(live.worker)
        emitted = sum(v for n, _, v in samples if n == "alertpipe_worker_incident_emitted_total")
        return (
            "alertpipe_worker_incident_suppressed_total" in labels
            and "alertpipe_worker_dead_letters_total" in labels
            and "alertpipe_worker_consumer_lag" in labels
            and emitted >= 1
        )

    wait_for(
        "the worker's series for emitted, suppressed, dead letters and lag",
        worker_has_everything,
    )
    ingress_labels, _ = scrape(live.ingress)
    worker_labels, worker_samples = scrape(live.worker)
    exposed = {**ingress_labels, **worker_labels}

    missing, bad_labels = [], []
    for where, expr in [*dashboard_queries(), *rule_queries()]:
        found = selectors(expr)
        for name, used in found.labels.items():
            if name in SYNTHETIC:
                continue
            if name not in exposed:
                missing.append(f"{where}: {name}")
            elif not used <= exposed[name]:
                bad_labels.append(f"{where}: {name} has no label {used - exposed[name]}")
        available = set().union(*(exposed.get(n, set()) for n in found.labels)) | {"le"}
        if not found.aggregated_by <= available:
            bad_labels.append(f"{where}: by {found.aggregated_by - available}")
    assert not missing, missing
    assert not bad_labels, bad_labels
    documented = set(re.findall(r"`(alertpipe_[a-z_]+)`", OPERATIONS.read_text()))
    assert len(documented) > 10
    undocumented = {n for n in documented if n not in exposed and f"{n}_bucket" not in exposed}
    assert not undocumented, f"docs/operations.md names metrics nothing exposes: {undocumented}"

    # The sampled lag says something true: per partition of the topics the worker consumes.
    lag = [
        (labels, value)
        for name, labels, value in worker_samples
        if name == "alertpipe_worker_consumer_lag"
    ]
    assert {labels["topic"] for labels, _ in lag} <= {live.topics.raw, live.repartition}
    assert all(value >= 0 for _, value in lag)


def test_worker_probes_answer(live: Live) -> None:
    assert httpx.get(f"{live.worker}/healthz", timeout=5).json() == {"status": "ok"}
    wait_for(
        "the worker's /readyz",
        lambda: httpx.get(f"{live.worker}/readyz", timeout=5).status_code == 200,
        60,
    )
    _, samples = scrape(live.worker)
    assert ("alertpipe_worker_ready", {}, 1.0) in samples


def test_worker_lag_drains_once_everything_is_committed(live: Live) -> None:
    """After the webhooks above, the group commits everything it consumed (committed offsets
    as Kafka holds them): each raw partition's lag reaches 0. The repartition topic is
    written in transactions (exactly-once, the default): the last transaction's commit marker
    takes an offset that no record is consumed at, so a partition at rest shows at most 1."""

    def drained() -> bool:
        _, samples = scrape(live.worker)
        lag = {
            (labels["topic"], labels["partition"]): v
            for name, labels, v in samples
            if name == "alertpipe_worker_consumer_lag"
        }
        raw = [v for (topic, _), v in lag.items() if topic == live.topics.raw]
        internal = [v for (topic, _), v in lag.items() if topic == live.repartition]
        return bool(raw) and all(v == 0 for v in raw) and all(v <= 1 for v in internal)

    wait_for("every raw partition's lag at 0, every repartition partition's at most 1", drained, 90)
