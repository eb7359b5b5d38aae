"""An operator adds a source of their own, with no code change: a folder (schema, mapping file,
sample) in ALERTPIPE_SOURCES_DIR. The CLI lists, tests and enables it, and a body posted to a
real `alertpipe ingress` comes out of a real `alertpipe worker` as a normalized alert."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from alertpipe.ports import free_port
from tests.ingest.kafka_helpers import ingress_process
from tests.processors.helpers import alert_validator
from tests.processors.test_worker_e2e import Pipeline, by_org, consume, new_org, worker_pipeline

CLI = [sys.executable, "-m", "alertpipe.cli"]

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["check", "state"],
    "properties": {
        "state": {"enum": ["down", "up"]},
        "check": {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "string", "minLength": 1}, "name": {"type": "string"}},
        },
    },
}
MAPPING = """\
title: Uptime bot (an operator's own source)
paths: [uptimebot/v1]
content_types: [application/json]
fields:
  message_type:
    path: state
    map: {down: CRITICAL, up: RECOVERY}
    default: INFO
  entity_id: {template: "uptimebot:{check.id}"}
  entity_display_name: check.name
  state_message: {template: "{check.name} is {state}"}
  monitoring_tool: {value: Uptime bot}
details:
  check: check
"""
SAMPLE = {"state": "down", "check": {"id": "c-17", "name": "shop checkout"}}


def write_source(root: Path) -> Path:
    folder = root / "uptimebot"
    (folder / "samples").mkdir(parents=True)
    (folder / "uptimebot.schema.json").write_text(json.dumps(SCHEMA))
    (folder / "mapping.yaml").write_text(MAPPING)
    (folder / "samples" / "down.json").write_text(json.dumps(SAMPLE))
    return root


@pytest.fixture(scope="module")
def own_pipeline(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    sources = write_source(tmp_path_factory.mktemp("operator-sources"))
    extra = {"ALERTPIPE_SOURCES_DIR": str(sources)}
    with worker_pipeline(kafka_bootstrap, tmp_path_factory, extra) as running:
        yield running


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_cli_lists_tests_and_lints_the_operators_source(own_pipeline: Pipeline) -> None:
    env = own_pipeline.env
    listed = cli(env, "sources", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {json.loads(line)["name"]: json.loads(line) for line in listed.stdout.splitlines()}
    assert rows["uptimebot"]["mapping"] == "declarative"
    assert "thousandeyes" in rows  # the built-in ones are still there
    sample = Path(env["ALERTPIPE_SOURCES_DIR"]) / "uptimebot" / "samples" / "down.json"
    tested = cli(env, "sources", "test", "uptimebot", "--body", str(sample), "--json")
    assert tested.returncode == 0, tested.stderr
    assert "uptimebot:c-17" in tested.stdout
    linted = cli(env, "sources", "lint", env["ALERTPIPE_SOURCES_DIR"])
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_a_bad_operator_source_stops_the_ingress_and_the_worker_in_one_line(
    own_pipeline: Pipeline, tmp_path: Path
) -> None:
    bad = write_source(tmp_path)
    mapping = bad / "uptimebot" / "mapping.yaml"
    mapping.write_text(mapping.read_text().replace("entity_id: {template", "entity_idd: {template"))
    env = {**own_pipeline.env, "ALERTPIPE_SOURCES_DIR": str(bad)}
    for command in (["worker"], ["ingress", "--port", str(free_port())]):
        result = cli(env, *command)
        assert result.returncode == 2, (command, result.stderr)
        assert "Traceback" not in result.stderr
        assert f"{mapping}:" in result.stderr, result.stderr


async def test_a_body_for_the_operators_source_comes_out_normalized(
    own_pipeline: Pipeline,
) -> None:
    env, org = own_pipeline.env, new_org()
    enabled = cli(env, "integrations", "enable", "uptimebot", "--org", org, "--json")
    assert enabled.returncode == 0, enabled.stderr
    url_path = json.loads(enabled.stdout)["url"].split("/integrations/", 1)[1]
    assert url_path.startswith("uptimebot/v1/")
    port = free_port()
    with ingress_process(env, port, timeout=30):
        url = f"http://127.0.0.1:{port}/integrations/" + url_path.replace("$routing_key", "web")
        async with httpx.AsyncClient() as client:
            for _ in range(100):  # the ingress follows the keys topic: the new key within 5 s
                response = await client.post(url, json=SAMPLE)
                if response.status_code != 404:
                    break
                await asyncio.sleep(0.05)
        assert response.status_code == 200, response.text
    [record] = await consume(own_pipeline.bootstrap, own_pipeline.topics.normalized, 1, by_org(org))
    alert = json.loads(record.value)
    assert not list(alert_validator().iter_errors(alert))
    assert (alert["source"], alert["message_type"], alert["entity_id"]) == (
        "uptimebot",
        "CRITICAL",
        "uptimebot:c-17",
    )
    assert alert["state_message"] == "shop checkout is down"
    assert alert["details"]["check"] == SAMPLE["check"]
    assert alert["routing"]["requested"] == "web"  # the routing key of the URL
