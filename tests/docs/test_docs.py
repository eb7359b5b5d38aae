"""The docs name real things: every `alertpipe ...` command resolves in the CLI, every `make`
target exists, every setting is a real setting, every repository path exists; and the
README's example consumer is the tested file and does drop repeats by alert_id."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import click
import pytest
from aiokafka import AIOKafkaProducer

from alertpipe.cli import cli
from alertpipe.configref import SETTINGS
from tests.conftest import NewTopicFactory

ROOT = Path(__file__).parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
EXAMPLE = ROOT / "docs" / "examples" / "dedup_consumer.py"
SETTING_NAMES = {doc.env for doc in SETTINGS}


def quoted(text: str) -> list[str]:
    """Inline code spans and fenced code blocks."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return blocks + inline


def doc_ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.mark.parametrize("doc", DOCS, ids=doc_ids(DOCS))
def test_alertpipe_commands_in_the_docs_exist(doc: Path) -> None:
    for snippet in quoted(doc.read_text()):
        for match in re.finditer(r"\balertpipe((?: [a-z][a-z-]*)+)", snippet):
            command: click.Command = cli
            for word in match.group(1).split():
                if not isinstance(command, click.Group):
                    break  # the rest are arguments
                sub = command.get_command(click.Context(command), word)
                assert sub is not None, f"{doc.name}: `alertpipe{match.group(1)}`: no {word!r}"
                command = sub


@pytest.mark.parametrize("doc", DOCS, ids=doc_ids(DOCS))
def test_make_targets_in_the_docs_exist(doc: Path) -> None:
    targets = set(re.findall(r"^([a-zA-Z0-9_-]+):", (ROOT / "Makefile").read_text(), re.M))
    for snippet in quoted(doc.read_text()):
        for target in re.findall(r"\bmake ([a-z0-9-]+)", snippet):
            assert target in targets, f"{doc.name}: make {target}"


# Read by the test suite only (not settings of alertpipe, so not in the configuration page).
TEST_SETTINGS = {
    "ALERTPIPE_FAULTS": ROOT / "tests" / "faults" / "scale.py",
    "ALERTPIPE_CONSOLE_SHOTS": ROOT / "tests" / "console" / "conftest.py",
}


def test_test_only_settings_are_read_by_the_tests() -> None:
    for name, path in TEST_SETTINGS.items():
        assert f'"{name}"' in path.read_text(), (name, path)


# Settings of the faust-streaming worker, named only where the upgrade notes say they are gone.
REMOVED_SETTINGS = {
    "ALERTPIPE_TOPIC_STAGE1",
    "ALERTPIPE_STANDBY_REPLICAS",
    "ALERTPIPE_SWEEP_INTERVAL_S",
    "ALERTPIPE_WORKER_BATCH",
    "ALERTPIPE_WORKER_BATCH_WITHIN_S",
}
UPGRADE_NOTES = (ROOT / "docs" / "operations.md", "## Upgrading from the faust-streaming worker")
SETTING = r"\b((?:ALERTPIPE|KAFKA)_[A-Z0-9_]*[A-Z0-9])\b"


def section(text: str, heading: str) -> str:
    """``heading``'s section of a Markdown text: up to the next heading of its level."""
    start = text.index(heading + "\n")
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end >= 0 else len(text)]


@pytest.mark.parametrize("doc", DOCS, ids=doc_ids(DOCS))
def test_settings_in_the_docs_exist(doc: Path) -> None:
    text = doc.read_text()
    if doc == UPGRADE_NOTES[0]:
        text = text.replace(section(text, UPGRADE_NOTES[1]), "")
    named = set(re.findall(SETTING, text))
    known = SETTING_NAMES | TEST_SETTINGS.keys()
    assert named <= known, f"{doc.name}: {named - known}"


def test_the_upgrade_notes_name_only_real_or_removed_settings() -> None:
    path, heading = UPGRADE_NOTES
    named = set(re.findall(SETTING, section(path.read_text(), heading)))
    assert not REMOVED_SETTINGS & SETTING_NAMES  # really removed
    assert named >= REMOVED_SETTINGS  # each one said to be gone
    assert named <= SETTING_NAMES | REMOVED_SETTINGS, named - SETTING_NAMES - REMOVED_SETTINGS


@pytest.mark.parametrize("doc", DOCS, ids=doc_ids(DOCS))
def test_paths_in_the_docs_exist(doc: Path) -> None:
    top = "deploy|docs|schemas|tests|processors|ingest|kafkaio|alertpipe|bench"
    for snippet in quoted(doc.read_text()):
        for path in re.findall(rf"^(?:{top})/[\w./-]*$", snippet.strip()):
            assert (ROOT / path.split("#")[0]).exists(), f"{doc.name}: {path}"


def test_the_readme_shows_the_tested_example() -> None:
    assert f"```python\n{EXAMPLE.read_text()}```" in (ROOT / "README.md").read_text()


async def publish(bootstrap: str, topic: str, alerts: list[dict[str, object]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for alert in alerts:
            key = str(alert["incident_key"]).encode()
            await producer.send_and_wait(topic, json.dumps(alert).encode(), key=key)
    finally:
        await producer.stop()


def test_the_example_consumer_drops_repeats_by_alert_id(
    kafka_bootstrap: str, new_topic: NewTopicFactory, tmp_path: Path
) -> None:
    topic = asyncio.run(new_topic(partitions=1))
    ids = [str(uuid.uuid4()) for _ in range(3)]

    def alert(n: int, message_type: str) -> dict[str, object]:
        return {"alert_id": ids[n], "incident_key": f"acme/e{n}", "message_type": message_type}

    # what at-least-once delivery can look like: repeats of the first and second alert
    sent = [alert(0, "CRITICAL"), alert(1, "WARNING"), alert(0, "CRITICAL"), alert(2, "INFO"),
            alert(1, "WARNING")]  # fmt: skip
    asyncio.run(publish(kafka_bootstrap, topic, sent))
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "ALERTPIPE_TOPIC_NORMALIZED": topic}  # fmt: skip
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(EXAMPLE)], env=env, stdout=stdout, stderr=stderr
        )
        try:
            deadline = time.monotonic() + 60
            while len(out.read_text().splitlines()) < 3 and time.monotonic() < deadline:
                assert proc.poll() is None, err.read_text()
                time.sleep(0.2)
            time.sleep(2)  # anything after the third line would be a repeat
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    lines = out.read_text().splitlines()
    assert lines == [
        f"acme/e0 CRITICAL {ids[0]}",
        f"acme/e1 WARNING {ids[1]}",
        f"acme/e2 INFO {ids[2]}",
    ], (lines, err.read_text())
