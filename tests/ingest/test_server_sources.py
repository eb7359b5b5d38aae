"""The ingress compiles the mapping files at start as the worker does: a bad one stops it with
the file and the line (uvicorn's factory, ``ingest.server.create_app``, calls this)."""

from __future__ import annotations

from pathlib import Path

import pytest

import ingest.server
from schemas.registry import load_sources
from tests.schemas.test_mapping_files import GOOD, write_folder


def test_the_built_in_sources_pass() -> None:
    assert ingest.server.checked_sources() == load_sources()


def test_a_mapping_that_does_not_compile_stops_the_ingress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_folder(tmp_path, mapping=GOOD.replace("entity_id: id", "entity_id: {template: '{'}"))
    monkeypatch.setattr(ingest.server, "load_sources", lambda: load_sources(tmp_path))
    with pytest.raises(SystemExit) as stopped:
        ingest.server.checked_sources()
    assert str(stopped.value).startswith(
        f"error: bad source: {tmp_path / 'example' / 'mapping.yaml'}:6: fields.entity_id.template"
    )
