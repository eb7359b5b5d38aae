"""A whole pipeline on the session broker for the scenarios that need no broker faults
(hostile input, HTTP fuzzing, security): fresh topics, one worker (with its metrics port),
one ingress (access log on, so the log search has something to search)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from alertpipe.harness import Proc, pipeline_env, worker_env
from alertpipe.jobs.integrations import revoke
from alertpipe.ports import free_port
from kafkaio.settings import TopicSettings, prefixed_topics
from kafkaio.topics import ensure_topics, topic_specs
from schemas.registry import load_sources
from tests.faults.processes import running_ingress, running_worker
from tests.ingest.kafka_helpers import enable

PATHS = {
    "thousandeyes": "thousandeyes/v1",
    "pingometer": "pingometer/v1",
    "generic": "generic/20131114/alert",
}


@dataclass
class Pipeline:
    bootstrap: str
    topics: TopicSettings
    group: str
    worker: Proc
    ingress: Proc
    worker_metrics_url: str
    ingress_env: dict[str, str]
    # Every integration key minted for this pipeline: none may ever show up anywhere.
    keys: list[str] = field(default_factory=list)
    key_ids: dict[str, str] = field(default_factory=dict)

    def new_key(self, source: str, org: str) -> str:
        key, integration = asyncio.run(enable(self.bootstrap, self.topics, source, org))
        self.keys.append(key)
        self.key_ids[key] = integration.key_id
        if load_sources()[source].key_in_body:
            # The probe below cannot tell a known body key without writing; the keys topic
            # has one partition, so a key enabled after this one being known proves it.
            probe, _ = asyncio.run(enable(self.bootstrap, self.topics, "generic", org))
            self.wait_until_known("generic", probe)
        else:
            self.wait_until_known(source, key)
        return key

    def wait_until_known(self, source: str, key: str, timeout: float = 15) -> None:
        """Until the ingress knows ``key``: a wrong content type gets 415 for a known key and
        404 for an unknown one, and writes nothing either way."""
        deadline = time.monotonic() + timeout
        while True:
            status = httpx.post(
                self.url(source, key), content=b"x", headers={"content-type": "x/probe"}
            ).status_code
            if status == 415:
                return
            assert time.monotonic() < deadline, f"key for {source} not loaded ({status})"
            time.sleep(0.2)

    def revoke(self, key: str) -> None:
        asyncio.run(revoke(self.bootstrap, self.topics.integrations, self.key_ids[key]))

    def url(self, source: str, key: str, routing_key: str = "ops") -> str:
        endpoint = load_sources()[source].endpoint
        if endpoint is not None:  # PagerDuty's: the key goes in the body
            return f"{self.ingress.base_url}{endpoint}"
        path = PATHS.get(source, f"{source}/v1")
        return f"{self.ingress.base_url}/integrations/{path}/{key}/{routing_key}"


def running_pipeline(bootstrap: str, tmp: Path, **ingress_extra: str) -> Iterator[Pipeline]:
    """For a module-scoped fixture: the pipeline runs until the module's tests are done."""
    topics = prefixed_topics(f"p.{uuid.uuid4().hex[:8]}", partitions=3)
    asyncio.run(ensure_topics(bootstrap, topic_specs(topics), timeout=60))
    metrics_port = free_port()
    wenv = worker_env(
        bootstrap, topics, tmp / "worker-data", ALERTPIPE_WORKER_METRICS_PORT=str(metrics_port)
    )
    ienv = pipeline_env(bootstrap, topics, ALERTPIPE_ACCESS_LOG="1", **ingress_extra)
    with (
        running_worker(wenv, tmp / "worker.log") as worker,
        running_ingress(ienv, tmp / "ingress.log") as ingress,
    ):
        yield Pipeline(
            bootstrap,
            topics,
            wenv["ALERTPIPE_WORKER_GROUP"],
            worker,
            ingress,
            f"http://127.0.0.1:{metrics_port}/metrics",
            ienv,
        )


def decoded(value: bytes | None) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(value or b"{}")
    return parsed


def assert_worker_healthy(pipeline: Pipeline) -> None:
    """Alive, and no traceback in its log: a crash or an unhandled error is a failure."""
    text = pipeline.worker.text()
    if not pipeline.worker.alive():
        pytest.fail(f"the worker died ({pipeline.worker.popen.returncode}):\n{text[-4000:]}")
    assert "Traceback" not in text, text[text.index("Traceback") - 2000 :][:6000]
