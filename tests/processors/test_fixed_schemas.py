"""Fixed schemas (ALERTPIPE_SCHEMA_DIR) replace a known source's schema, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkaio.settings import SettingsError, load_settings
from processors.pipeline import process_raw
from processors.validate import SchemaSet, schema_errors, schema_set, validate
from schemas.registry import RegistryError, catalog, load_sources
from tests.processors.helpers import NULLS_BODY, NULLS_PATHS, raw_input, write_nulls_fix


def test_a_fixed_schema_accepts_what_the_built_in_one_refuses(tmp_path: Path) -> None:
    fixed = schema_set(write_nulls_fix(tmp_path / "fixes").parent)
    raw = raw_input("generic", NULLS_BODY)

    before = process_raw(raw, {})
    after = process_raw(raw, {}, fixed)

    assert before.dead_letter is not None
    assert (before.dead_letter.code, before.dead_letter.path) == ("schema", NULLS_PATHS[0])
    assert after.dead_letter is None
    assert [a.entity_id for a in after.alerts] == ["disk/db1"]


def test_only_the_schema_changes(tmp_path: Path) -> None:
    path = write_nulls_fix(tmp_path)
    built_in = load_sources()
    fixed = catalog(fixes=tmp_path)
    assert fixed["generic"].origin == path
    assert fixed["generic"].paths == built_in["generic"].paths
    assert fixed["generic"].schema != built_in["generic"].schema
    assert fixed["thousandeyes"] == built_in["thousandeyes"]


def test_every_schema_error_is_listed_with_its_path() -> None:
    data = {"message_type": "CRITICAL", "entity_id": "x", "timestamp": None, "hostname": None}
    assert [path for path, _ in schema_errors("generic", data)] == NULLS_PATHS
    assert schema_errors("generic", {"message_type": "INFO"}) == []
    letter = validate("generic", data)
    assert letter is not None
    assert letter.path == NULLS_PATHS[0]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("nosuch.schema.json", "{}", "no source named 'nosuch'"),
        ("generic.schema.json", "{not json", "not readable JSON"),
        ("generic.schema.json", "[]", "must be an object"),
    ],
)
def test_unusable_files_are_named(tmp_path: Path, name: str, text: str, message: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(RegistryError, match=message):
        catalog(fixes=tmp_path)


def test_a_schema_that_does_not_compile_is_named(tmp_path: Path) -> None:
    (tmp_path / "generic.schema.json").write_text('{"type": 5}')
    with pytest.raises(RegistryError, match=r"generic\.schema\.json: not a usable schema"):
        SchemaSet(catalog(fixes=tmp_path))


def test_the_setting_must_name_a_directory(tmp_path: Path) -> None:
    assert load_settings({"ALERTPIPE_SCHEMA_DIR": str(tmp_path)}).schema_dir == tmp_path
    assert load_settings({}).schema_dir is None
    with pytest.raises(SettingsError, match="not a directory"):
        load_settings({"ALERTPIPE_SCHEMA_DIR": str(tmp_path / "missing")})
