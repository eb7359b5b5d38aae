"""The ingress compiles the mapping files at start as the worker does: a bad one stops it with
the file and the line (uvicorn's factory, ``ingest.server.create_app``, calls this)."""

from __future__ import annotations

from pathlib import Path

import pytest

import ingest.server
from kafkaio.settings import Settings
from schemas.registry import load_sources
from tests.schemas.test_mapping_files import GOOD, write_folder


def test_the_built_in_sources_pass() -> None:
    assert ingest.server.checked_sources(Settings()) == load_sources()


def test_an_operators_folder_is_served_beside_them(tmp_path: Path) -> None:
    write_folder(tmp_path)
    served = ingest.server.checked_sources(Settings(sources_dir=tmp_path))
    assert set(served) == {*load_sources(), "example"}


def test_a_mapping_that_does_not_compile_stops_the_ingress(tmp_path: Path) -> None:
    write_folder(tmp_path, mapping=GOOD.replace("entity_id: id", "entity_id: {template: '{'}"))
    with pytest.raises(SystemExit) as stopped:
        ingest.server.checked_sources(Settings(sources_dir=tmp_path))
    assert str(stopped.value).startswith(
        f"error: bad source: {tmp_path / 'example' / 'mapping.yaml'}:6: fields.entity_id.template"
    )
