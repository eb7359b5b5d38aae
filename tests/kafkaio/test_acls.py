"""The ACL data (``kafkaio.acls``): docs/operations.md shows it as it is, the ingress's rules
keep it off the delivery topic and the raw records, and the worker's transactional ids fall
under its prefixed rule. The real-broker check is tests/kafkaio/test_acls_e2e.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kafkaio.acls import (
    COMPONENTS,
    component_acls,
    component_rows,
    kafka_acls_command,
    markdown_table,
    transactional_prefix,
)
from kafkaio.settings import Settings, TopicSettings
from processors.settings import WorkerSettings
from processors.worker.app import kafka_configs
from processors.worker.observe import LoopReport

DOC = Path(__file__).parents[2] / "docs" / "operations.md"
GROUP = "alertpipe-worker"  # WorkerSettings' default


def test_the_operations_doc_shows_the_acls_of_the_defaults() -> None:
    text = DOC.read_text()
    found = re.search(r"<!-- acl-table:[^>]*-->\n(.*?)<!-- /acl-table -->", text, re.S)
    assert found is not None, "docs/operations.md lost its ACL table markers"
    expected = markdown_table((c, component_rows(c, TopicSettings(), GROUP)) for c in COMPONENTS)
    assert found.group(1) == expected, f"paste this table into docs/operations.md:\n{expected}"


def test_every_kafka_acls_line_of_the_doc_adds_a_rule_of_the_data() -> None:
    lines = [line for line in DOC.read_text().splitlines() if " --add " in line]
    assert len(lines) >= 3
    rendered = {
        kafka_acls_command(f"User:alertpipe-{c}", row, "BROKER:9093", "admin.properties")
        for c in COMPONENTS
        for row in component_rows(c, TopicSettings(), GROUP)
    }
    assert set(lines) <= rendered


def test_the_ingress_can_neither_read_raw_nor_touch_the_delivery_topic() -> None:
    topics = TopicSettings()
    ingress = component_acls("ingress", topics, GROUP)
    assert {(a.name, a.operation) for a in ingress} == {
        (topics.raw, "Write"),
        (topics.integrations, "Read"),
    }
    assert all(a.pattern == "literal" and a.resource == "topic" for a in ingress)


def test_only_the_transactional_ids_are_prefixed() -> None:
    rules = [a for c in COMPONENTS for a in component_acls(c, TopicSettings(), GROUP)]
    prefixed = {(a.resource, a.name) for a in rules if a.pattern == "prefixed"}
    assert prefixed == {("transactional-id", "alertpipe-worker-")}


@pytest.mark.parametrize("instance_id", [None, "worker-0"])
def test_the_workers_transactional_ids_fall_under_the_prefixed_rule(
    instance_id: str | None,
) -> None:
    settings = WorkerSettings(kafka=Settings(), instance_id=instance_id)
    _, producer = kafka_configs(settings, LoopReport(topics=set()))
    assert producer["transactional.id"].startswith(transactional_prefix(settings.group))
    if instance_id is not None:
        assert producer["transactional.id"] == f"{settings.group}-{instance_id}"


def test_a_prefixed_rule_renders_its_pattern_type() -> None:
    [row] = [r for r in component_rows("worker", TopicSettings(), "g") if r.pattern == "prefixed"]
    command = kafka_acls_command("User:w", row, "k:9093", "admin.properties")
    assert command.endswith("--transactional-id g- --resource-pattern-type prefixed")


def test_an_unknown_component_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown component"):
        component_rows("consumer", TopicSettings(), GROUP)
