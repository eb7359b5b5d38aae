"""An operator's source folders (ALERTPIPE_SOURCES_DIR) are served beside the built-in ones,
and may neither replace one nor take its URL path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas.registry import RegistryError, catalog, load_sources
from tests.schemas.test_mapping_files import GOOD, write_folder


def test_without_a_directory_the_catalog_is_the_built_in_sources() -> None:
    assert catalog() == load_sources()


def test_a_folder_is_added(tmp_path: Path) -> None:
    write_folder(tmp_path, "uptimebot")
    sources = catalog(tmp_path)
    assert set(sources) == {*load_sources(), "uptimebot"}
    assert sources["uptimebot"].mapping is not None


def test_a_built_in_name_is_refused(tmp_path: Path) -> None:
    write_folder(tmp_path, "grafana", GOOD.replace("example/v1", "mygrafana/v1"))
    with pytest.raises(RegistryError, match="source 'grafana' is defined twice"):
        catalog(tmp_path)


def test_a_built_in_path_is_refused(tmp_path: Path) -> None:
    path = load_sources()["grafana"].paths[0]
    write_folder(tmp_path, "mine", GOOD.replace("example/v1", path))
    with pytest.raises(RegistryError, match=f"path '{path}' is already served by"):
        catalog(tmp_path)


def test_a_flat_schema_is_refused(tmp_path: Path) -> None:
    (tmp_path / "flat.schema.json").write_text(json.dumps({"type": "object"}))
    with pytest.raises(RegistryError, match="an operator's source is a folder"):
        catalog(tmp_path)
