"""The source lists of schemas/asyncapi.yaml and README.md are generated from the registry
(``alertpipe.contracts``): the committed files are current, and a source folder added
without `make contracts` makes them stale, while a regenerated document names it and still
parses."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from alertpipe.cli import cli
from alertpipe.contracts import asyncapi_text, generated_documents, message_id, readme_text
from schemas.registry import catalog, load_sources
from tests.contracts.test_asyncapi import DOCUMENT, parse_with_asyncapi_parser
from tests.schemas.test_mapping_files import GOOD, write_folder

ROOT = DOCUMENT.parents[1]
UPTIMEBOT = GOOD.replace("example/v1", "uptimebot/v1").replace("title: Example", "title: Uptimebot")


def test_the_committed_documents_are_generated_from_the_registry() -> None:
    stale = [str(d.path) for d in generated_documents(ROOT, load_sources()) if d.stale]
    assert stale == [], "run `make contracts`"


def test_a_new_folder_without_regenerating_makes_them_stale(tmp_path: Path) -> None:
    write_folder(tmp_path, "uptimebot", UPTIMEBOT)
    documents = generated_documents(ROOT, catalog(tmp_path))
    assert [d.path.name for d in documents if d.stale] == ["asyncapi.yaml", "README.md"]


def test_a_new_folder_appears_in_the_regenerated_documents(tmp_path: Path) -> None:
    sources_dir = tmp_path / "sources"
    folder = write_folder(sources_dir, "uptimebot", UPTIMEBOT)
    sources = catalog(sources_dir)
    # the document beside its hand-written references, so that the parser resolves them
    document = tmp_path / "asyncapi.yaml"
    shutil.copy(DOCUMENT.parent / "normalized-alert.schema.json", tmp_path)
    document.write_text(asyncapi_text(DOCUMENT.read_text(), sources, document))
    spec = yaml.safe_load(document.read_text())
    assert spec["channels"]["raw"]["messages"]["uptimebot"] == {
        "$ref": f"#/components/messages/{message_id('uptimebot')}"
    }
    message = spec["components"]["messages"]["rawUptimebot"]
    assert message["title"] == "Uptimebot"
    assert message["payload"]["$ref"] == "./sources/uptimebot/uptimebot.schema.json"
    assert (document.parent / message["payload"]["$ref"]).resolve() == (
        folder / "uptimebot.schema.json"
    )
    assert set(spec["channels"]["raw"]["messages"]) == {*load_sources(), "uptimebot"}
    code, report = parse_with_asyncapi_parser(document)
    assert (code, report["errors"], report["warnings"]) == (0, [], []), report
    readme = readme_text((ROOT / "README.md").read_text(), sources, ROOT)
    assert (
        "| `uptimebot` | Uptimebot | `/integrations/uptimebot/v1/<key>/<routing_key>` |" in readme
    )


def test_generate_check_names_the_stale_file(tmp_path: Path) -> None:
    """(The copied asyncapi.yaml is stale too: its payload references are relative to it.)"""
    (tmp_path / "schemas").mkdir()
    shutil.copy(DOCUMENT, tmp_path / "schemas")
    readme = (ROOT / "README.md").read_text()
    (tmp_path / "README.md").write_text(readme.replace("| [grafana]", "| [grafana-old]"))
    runner = CliRunner()
    checked = runner.invoke(cli, ["contracts", "generate", "--root", str(tmp_path), "--check"])
    assert checked.exit_code == 1
    assert "README.md" in checked.output
    assert runner.invoke(cli, ["contracts", "generate", "--root", str(tmp_path)]).exit_code == 0
    assert "grafana-old" not in (tmp_path / "README.md").read_text()
    checked = runner.invoke(cli, ["contracts", "generate", "--root", str(tmp_path), "--check"])
    assert checked.exit_code == 0, checked.output
