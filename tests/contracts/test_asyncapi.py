"""schemas/asyncapi.yaml is a valid AsyncAPI 3 document (the AsyncAPI Initiative's own
parser, run with Node from `make npm-tools`), and it describes what the code writes: the raw
headers, the sources, the dead-letter headers and codes, the topics' defaults."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

from kafkaio.settings import TopicSettings
from kafkaio.topics import topic_specs
from kafkaio.worker_topics import internal_topics
from processors.deadletter import DeadLetter, ErrorCode, dead_letter_headers
from processors.redrive import REDRIVE_HEADER
from processors.settings import load_worker_settings
from schemas.normalized import RawRef
from schemas.raw import HEADER_NAMES
from schemas.registry import load_sources

HERE = Path(__file__).parent
DOCUMENT = HERE.parents[1] / "schemas" / "asyncapi.yaml"
SPEC: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text())
COMPONENTS = SPEC["components"]


def parse_with_asyncapi_parser(path: Path) -> tuple[int, dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the AsyncAPI check needs Node.js 18+", False)
    if not (HERE / "node_modules" / "@asyncapi" / "parser").is_dir():
        pytest.fail("@asyncapi/parser is not installed: run `make npm-tools`", False)
    result = subprocess.run(
        [node, str(HERE / "check-asyncapi.mjs"), str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_the_document_parses_without_errors_or_warnings() -> None:
    code, report = parse_with_asyncapi_parser(DOCUMENT)
    assert (code, report["errors"], report["warnings"]) == (0, [], []), report
    topics = TopicSettings()
    addresses = {c["id"]: c["address"] for c in report["channels"]}
    assert addresses == {
        "raw": topics.raw,
        "normalized": topics.normalized,
        "deadLetter": topics.dead_letter,
    }


def test_the_parser_catches_a_broken_reference(tmp_path: Path) -> None:
    broken = tmp_path / "asyncapi.yaml"
    broken.write_text(DOCUMENT.read_text().replace("./normalized-alert", str(tmp_path / "gone")))
    code, report = parse_with_asyncapi_parser(broken)
    assert code == 1
    assert report["errors"]


def test_raw_headers_are_the_ones_the_ingress_writes() -> None:
    headers = COMPONENTS["schemas"]["rawHeaders"]
    assert list(headers["properties"]) == list(HEADER_NAMES)
    assert headers["required"] == [n for n in HEADER_NAMES if n != "entity_id"]


def test_every_source_has_a_raw_message_with_its_schema() -> None:
    messages = SPEC["channels"]["raw"]["messages"]
    sources = load_sources()
    assert set(messages) == set(sources)
    for source, ref in messages.items():
        message = COMPONENTS["messages"][ref["$ref"].rsplit("/", 1)[1]]
        origin = sources[source].origin
        assert origin is not None
        assert message["payload"]["$ref"] == f"./{origin.relative_to(DOCUMENT.parent)}"
        assert (DOCUMENT.parent / message["payload"]["$ref"]).is_file()


def test_dead_letter_headers_and_codes_are_the_ones_the_worker_writes() -> None:
    added = COMPONENTS["schemas"]["deadLetterHeaders"]["allOf"][1]
    written = dead_letter_headers([], DeadLetter("schema", "m", "$.a"), RawRef("t", 0, 1))
    # plus the header a redrive adds to a dead letter that failed again (processors.redrive)
    assert set(added["properties"]) == {name for name, _ in written} | {REDRIVE_HEADER}
    assert REDRIVE_HEADER not in added["required"]
    assert added["properties"]["error.code"]["enum"] == list(get_args(ErrorCode))


def test_topic_bindings_match_the_topics_alertpipe_creates() -> None:
    specs = {spec.name: spec for spec in topic_specs(TopicSettings())}
    for channel in SPEC["channels"].values():
        spec = specs[channel["address"]]
        binding = channel["bindings"]["kafka"]
        assert binding["partitions"] == spec.partitions
        assert str(binding["topicConfiguration"]["retention.ms"]) == spec.configs["retention.ms"]


def test_normalized_alerts_use_the_published_schema() -> None:
    message = COMPONENTS["messages"]["normalizedAlert"]
    assert message["payload"]["$ref"] == "./normalized-alert.schema.json"


def test_the_document_names_the_internal_topics_and_read_committed() -> None:
    """Readers are told to use read_committed, and the internal topics the description names
    are those of the default worker group (kafkaio.worker_topics), not channels."""
    description = SPEC["info"]["description"]
    assert "read_committed" in description
    group = load_worker_settings({}).group
    internal = internal_topics(group, TopicSettings().raw)
    for name in (internal.repartition, internal.changelog):
        assert name is not None  # the default raw topic has several partitions
        assert name.replace(f"__{group}--", "__<group>--") in description, name
    addresses = {channel["address"] for channel in SPEC["channels"].values()}
    assert not addresses & {internal.repartition, internal.changelog}
    for channel in ("normalized", "deadLetter"):
        assert "read_committed" in SPEC["channels"][channel]["description"], channel
