"""Source folders and their mapping files: a wrong file stops the load with its path, the line
and what is wrong; a right one becomes a source beside the flat (Python-mapped) ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from schemas.mappingfile import MappingFileError, read_mapping_file
from schemas.registry import SOURCES_DIR, RegistryError, load_sources

GOOD = """\
title: Example
paths: [example/v1]
content_types: [application/json]
fields:
  message_type: {value: CRITICAL}
  entity_id: id
"""


def write_folder(root: Path, name: str = "example", mapping: str = GOOD) -> Path:
    folder = root / name
    (folder / "samples").mkdir(parents=True)
    (folder / f"{name}.schema.json").write_text(json.dumps({"type": "object"}))
    (folder / "mapping.yaml").write_text(mapping)
    (folder / "samples" / "one.json").write_text('{"id": "x"}')
    return folder


def error_of(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    with pytest.raises(MappingFileError) as caught:
        read_mapping_file(path)
    return str(caught.value)


def test_a_good_file_keeps_the_line_of_every_key() -> None:
    found = read_mapping_file(SOURCES_DIR / "alertmanager" / "mapping.yaml")
    assert found.data["paths"] == ["alertmanager/v1"]
    lines = found.path.read_text().splitlines()
    assert lines[found.line(("fields", "entity_id")) - 1].strip() == "entity_id:"
    assert found.line(("fields", "entity_id", "nothing", "here")) == found.line(
        ("fields", "entity_id")
    )


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        (GOOD.replace("title: Example\n", ""), 1, "'title' is a required property"),
        (GOOD + "colour: red\n", 7, "colour: unknown key (known: alerts, annotations, "),
        (GOOD.replace("  entity_id: id\n", ""), 4, "'entity_id' is a required property"),
        (GOOD.replace("example/v1", "Example/../v1"), 2, "paths.0: 'Example/../v1' does not"),
        (
            GOOD.replace("  entity_id: id\n", "  entity_id: id\n  entity: id\n"),
            7,
            "fields.entity: unknown key (known: entity_display_name, entity_id, event_id",
        ),
        (GOOD + "fields: {}\n", 7, "duplicate key 'fields'"),
        (GOOD.replace("[application/json]", "[application/json"), 4, "not valid YAML"),
        ("- a list\n", 1, "a mapping file is a YAML mapping"),
    ],
)
def test_a_wrong_file_is_refused_with_its_path_and_line(
    tmp_path: Path, text: str, line: int, what: str
) -> None:
    message = error_of(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'mapping.yaml'}:{line}: "), message
    assert what in message


def test_a_folder_is_a_source_with_its_paths_types_and_samples(tmp_path: Path) -> None:
    folder = write_folder(tmp_path)
    sources = load_sources(tmp_path)
    info = sources["example"]
    assert info.paths == ("example/v1",)
    assert info.content_types == frozenset({"application/json"})
    assert info.origin == folder / "example.schema.json"
    assert info.samples == (folder / "samples" / "one.json",)
    assert info.mapping is not None
    assert info.mapping.data["title"] == "Example"


def test_the_built_in_folders_are_sources() -> None:
    sources = load_sources()
    assert {"alertmanager", "grafana"} <= set(sources)
    assert sources["thousandeyes"].mapping is None  # a flat schema: its mapping is Python


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (lambda f: (f / "example.schema.json").unlink(), "needs example.schema.json"),
        (lambda f: (f / "mapping.yaml").unlink(), "a source folder needs mapping.yaml"),
        (lambda f: (f / "example.schema.json").write_text("{"), "not readable JSON"),
        (
            lambda f: (f / "example.schema.json").write_text('{"x-alertpipe": {}}'),
            "belong in mapping.yaml",
        ),
        (lambda f: (f / "mapping.yaml").write_text("title: [\n"), "mapping.yaml:2: not valid"),
    ],
)
def test_a_broken_folder_stops_the_load(
    tmp_path: Path, change: Callable[[Path], object], what: str
) -> None:
    folder = write_folder(tmp_path)
    change(folder)
    with pytest.raises(RegistryError) as caught:
        load_sources(tmp_path)
    assert what in str(caught.value)


def test_a_path_served_twice_is_refused(tmp_path: Path) -> None:
    write_folder(tmp_path, "one")
    write_folder(tmp_path, "two")
    with pytest.raises(RegistryError, match="'example/v1' is already served by 'one'"):
        load_sources(tmp_path)
