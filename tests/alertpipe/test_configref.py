"""The configuration reference cannot drift from the code: the committed page is what the
code renders, every environment variable the code reads is in it, and each documented
variable really sets the field the reference names."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alertpipe.cli import cli
from alertpipe.cli.integrations import DEFAULT_BASE_URL
from alertpipe.configref import SETTINGS, SettingDoc, default_of, value_at

ROOT = Path(__file__).parents[2]
PACKAGES = ("alertpipe", "ingest", "kafkaio", "processors", "schemas")
PREFIXES = ("ALERTPIPE_", "KAFKA_")  # constants with these prefixes name variables
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
DOCUMENTED = {doc.env for doc in SETTINGS}
# The reference itself names every variable: scanning it would prove nothing.
NOT_SCANNED = {"alertpipe/configref.py"}
# Methods of kafkaio.env.Env: each argument naming a variable is one the code reads.
ENV_READS = {"text", "optional", "flag", "number", "positive", "integer", "choice", "directory",
             "file", "secret"}  # fmt: skip
# Upper-case keys that are not process settings.
NOT_SETTINGS = {"PATH_INFO"}  # a WSGI request variable (processors/worker/probes.py)


def env_names_read_by_the_code() -> dict[str, str]:
    """Upper-case names passed to ``.get``/``getenv``/``[...]`` of an environment mapping or
    to an ``Env`` read, and every ``ALERTPIPE_*`` and ``KAFKA_*`` constant (e.g. the topic
    variables kept in a dict): name -> file."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if str(path.relative_to(ROOT)) in NOT_SCANNED:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                name = None
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    if node.func.attr in ("get", "getenv", "pop", "setdefault") and node.args:
                        name = node.args[0]
                    elif node.func.attr in ENV_READS:
                        for arg in node.args:
                            value = arg.value if isinstance(arg, ast.Constant) else None
                            if isinstance(value, str) and ENV_NAME.match(value):
                                found[value] = str(path.relative_to(ROOT))
                elif isinstance(node, ast.Subscript):
                    name = node.slice
                elif isinstance(node, ast.Constant) and str(node.value).startswith(PREFIXES):
                    name = node
                value = name.value if isinstance(name, ast.Constant) else None
                if isinstance(value, str) and ENV_NAME.match(value) and value not in NOT_SETTINGS:
                    found[value] = str(path.relative_to(ROOT))
    return found


def test_the_committed_page_is_what_the_code_renders() -> None:
    result = CliRunner().invoke(
        cli, ["config", "reference", "--check", "--output", str(ROOT / "docs/configuration.md")]
    )
    assert result.exit_code == 0, result.output + "\nrun `make docs` and commit the page"


def test_check_fails_on_a_stale_page(tmp_path: Path) -> None:
    page = tmp_path / "configuration.md"
    page.write_text((ROOT / "docs/configuration.md").read_text().replace("`524288`", "`1`"))
    result = CliRunner().invoke(cli, ["config", "reference", "--check", "--output", str(page)])
    assert result.exit_code == 1
    assert "is stale" in result.output


def test_every_variable_the_code_reads_is_documented() -> None:
    read = env_names_read_by_the_code()
    assert "ALERTPIPE_WORKER_DATA_DIR" in read  # the scan finds what it should
    assert "ALERTPIPE_TOPIC_RAW" in read
    undocumented = {name: where for name, where in read.items() if name not in DOCUMENTED}
    assert not undocumented, f"add these to alertpipe/configref.py: {undocumented}"


def test_every_documented_variable_is_read_somewhere() -> None:
    missing = DOCUMENTED - set(env_names_read_by_the_code())
    assert not missing, f"documented but read nowhere: {missing}"
    assert len(DOCUMENTED) == len(SETTINGS), "a variable is listed twice"


@pytest.mark.parametrize("doc", [d for d in SETTINGS if d.path is not None], ids=lambda d: d.env)
def test_each_variable_sets_the_field_it_documents(doc: SettingDoc) -> None:
    assert doc.section.loader is not None
    assert doc.path is not None  # parametrized with those only
    default = default_of(doc)
    if doc.sample is not None:
        sample = doc.sample
    elif isinstance(default, str):
        sample = default + "-x"
    elif isinstance(default, int | float):
        sample = str(default * 2)
    else:
        pytest.fail(f"{doc.env}: give SettingDoc a sample value (default {default!r})")
    value = value_at(doc.section.loader({doc.env: sample}), doc.path)
    assert value != default
    kind: type[Any] = type(default)  # a settings field's type, built here from its text
    assert str(value) == sample or value == kind(sample)


def test_defaults_given_as_text_match_the_code_where_it_has_one() -> None:
    [url] = [d for d in SETTINGS if d.env == "ALERTPIPE_PUBLIC_URL"]
    assert url.default_text == f"`{DEFAULT_BASE_URL}`"
