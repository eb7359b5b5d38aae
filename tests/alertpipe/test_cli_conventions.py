"""What every command shares (docs/operations.md, "CLI conventions"): --version, completion
scripts, usage errors that list the valid choices, whole sentences in the command lists, and
- for standard input."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from alertpipe.cli import cli
from alertpipe.cli.group import CommandGroup
from alertpipe.ports import free_port

FIXTURES = Path(__file__).parents[1] / "fixtures"


def run(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args), input=stdin, env=env)


def groups(group: click.Group) -> list[click.Group]:
    found = [group]
    for command in group.commands.values():
        if isinstance(command, click.Group):
            found += groups(command)
    return found


def test_version() -> None:
    result = run("--version")
    assert (result.exit_code, result.output) == (0, f"alertpipe {version('alertpipe')}\n")


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o nosort -F"), ("zsh", "#compdef alertpipe"), ("fish", "complete")],
)
def test_completion_prints_clicks_script(shell: str, marker: str) -> None:
    result = run("completion", shell)
    assert result.exit_code == 0, result.output
    assert marker in result.output
    assert "_ALERTPIPE_COMPLETE" in result.output


def test_every_group_lists_its_commands_on_an_unknown_one() -> None:
    for group in groups(cli):
        assert isinstance(group, CommandGroup), f"{group.name}: use @click.group(cls=CommandGroup)"
    result = run("routes", "nope")
    assert result.exit_code == 2
    assert "no such command 'nope'; choose from: default, list, rules, set, test, unset" in (
        result.output
    )
    assert run("completion", "tcsh").exit_code == 2


def test_the_command_lists_show_whole_sentences() -> None:
    for group in groups(cli):
        ctx = click.Context(group, info_name=group.name)
        text = group.get_help(ctx)
        assert not re.search(r"(?<!\[)\.\.\.", text.split("Commands:")[-1]), group.name


def test_a_body_from_standard_input() -> None:
    body = (FIXTURES / "generic" / "critical.json").read_bytes()
    result = run("sources", "test", "generic", "--body", "-", "--json", stdin=body)
    assert result.exit_code == 0, result.output
    assert '"source": "generic"' in result.output
    # routes test takes - too: it gets as far as Kafka (69 here), not "File '-' does not exist"
    done = subprocess.run(
        [sys.executable, "-m", "alertpipe.cli", "routes", "test", "acme", "--source", "generic",
         "--body", "-"],
        input=body, capture_output=True, timeout=60, check=False,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"},
    )  # fmt: skip
    assert done.returncode == 69, done.stderr
    assert b"does not exist" not in done.stderr


def test_an_unknown_source_is_a_usage_error_naming_the_known_ones() -> None:
    result = run("routes", "test", "acme", "--source", "nope", "--body", "-", stdin=b"{}")
    assert result.exit_code == 2
    assert "unknown source 'nope'; known: alertmanager" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["integrations", "enable", "nope", "--org", "acme"],
        ["replay", "--since", "1h", "--source", "nope"],
        ["tail", "--source", "nope"],
    ],
)
def test_an_unknown_source_anywhere_is_a_usage_error(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "alertpipe.cli", *args],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: unknown source 'nope'; known: alertmanager, ")


def test_redrive_is_a_dry_run_unless_yes() -> None:
    result = run("dlq", "redrive", "--dry-run", "--yes")
    assert result.exit_code == 2
    assert "--dry-run and --yes exclude each other" in result.output
