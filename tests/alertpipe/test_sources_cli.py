"""``alertpipe sources list|lint|test`` on the built-in sources and on a folder of one's own."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from alertpipe.cli import cli
from schemas.registry import SOURCES_DIR, load_sources
from tests.schemas.test_mapping_files import GOOD, write_folder


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["sources", *args])
    return result.exit_code, result.output


def test_list_names_every_source_and_its_kind() -> None:
    code, out = run("list", "--json")
    assert code == 0
    rows = {row["name"]: row for row in map(json.loads, out.splitlines())}
    assert set(rows) == set(load_sources())
    assert rows["alertmanager"]["mapping"] == "declarative"
    assert rows["thousandeyes"]["mapping"] == "python"
    assert rows["generic"]["paths"][0] == (
        "/integrations/generic/20131114/alert/<integration-key>/<routing-key>"
    )


def test_lint_maps_every_built_in_sample() -> None:
    code, out = run("lint")
    samples = sum(len(info.samples) for info in load_sources().values())
    assert (code, out.strip()) == (0, f"{len(load_sources())} sources, {samples} samples: ok")


def test_lint_names_the_file_and_line_of_a_broken_mapping(tmp_path: Path) -> None:
    write_folder(tmp_path, mapping=GOOD.replace("entity_id: id", "entity_id: {path: 'a..b'}"))
    code, out = run("lint", str(tmp_path))
    assert code == 2
    assert f"{tmp_path / 'example' / 'mapping.yaml'}:6: fields.entity_id.path: bad field" in out


def test_lint_names_a_sample_its_source_cannot_map(tmp_path: Path) -> None:
    folder = write_folder(tmp_path)
    (folder / "samples" / "two.json").write_text('{"no_id": 1}')
    code, out = run("lint", str(tmp_path))
    assert code == 1
    assert f"{folder / 'samples' / 'two.json'}: mapping: no entity id" in out
    assert "1 of 2 samples failed" in out


def test_test_prints_the_alerts_or_the_error_with_its_path(tmp_path: Path) -> None:
    sample = SOURCES_DIR / "alertmanager" / "samples" / "multi.json"
    code, out = run("test", "alertmanager", "--body", str(sample), "--json")
    assert code == 0
    assert [a["message_type"] for a in json.loads(out)] == ["WARNING", "CRITICAL", "RECOVERY"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"alerts": [{"status": "pending", "labels": {}}]}')
    code, out = run("test", "alertmanager", "--body", str(bad), "--json")
    assert code == 1
    assert json.loads(out)["error"]["path"] == "$.alerts[0].status"
    code, out = run("test", "nosuch", "--body", str(bad))
    assert code == 2
