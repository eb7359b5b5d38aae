"""alertpipe's own exceptions share one root, and the CLI turns one that no command caught
into one line and the exit code its class names."""

from __future__ import annotations

import ast
import builtins
import sys

import click
import pytest

from alertpipe.cli import cli, main
from kafkaio.admin import KafkaUnreachable
from kafkaio.env import SettingsError
from schemas.errors import EXIT_KAFKA_UNREACHABLE, EXIT_USAGE, AlertpipeError, UsageError
from tests.test_layers import sources

ROOTS = {"AlertpipeError", "UsageError"}


def exception_classes() -> dict[str, list[str]]:
    """Every class of the packages that derives from a built-in exception: its bases."""
    builtin = {
        n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)
    }
    found: dict[str, list[str]] = {}
    ours: set[str] = set()
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
                if set(bases) & (builtin | ROOTS | ours):
                    found[f"{path.stem}.{node.name}"] = bases
                    ours.add(node.name)
    return found


def test_every_exception_class_derives_from_the_root() -> None:
    classes = exception_classes()
    assert len(classes) >= 14
    named = {name.split(".")[-1] for name in classes}
    orphans = {
        name
        for name, bases in classes.items()
        if not set(bases) & (ROOTS | named) and name.split(".")[-1] not in ROOTS
    }
    assert orphans == set()


def test_exit_codes_by_class() -> None:
    assert issubclass(SettingsError, UsageError)
    assert issubclass(SettingsError, ValueError)  # callers that catch ValueError still do
    assert SettingsError.exit_code == EXIT_USAGE
    assert KafkaUnreachable.exit_code == EXIT_KAFKA_UNREACHABLE
    assert AlertpipeError.exit_code == 1


@pytest.mark.parametrize(
    ("error", "code"),
    [(KafkaUnreachable("cannot reach Kafka at k:1"), 69), (SettingsError("X='y' bad"), 2)],
)
def test_an_uncaught_error_is_one_line_and_its_exit_code(
    error: AlertpipeError,
    code: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    @click.command("explode")
    def explode() -> None:
        raise error

    cli.add_command(explode)
    monkeypatch.setattr(sys, "argv", ["alertpipe", "explode"])
    try:
        with pytest.raises(SystemExit) as exited:
            main()
    finally:
        cli.commands.pop("explode")
    assert exited.value.code == code
    assert capsys.readouterr().err == f"error: {error}\n"


def test_the_walk_sees_the_packages() -> None:
    classes = exception_classes()
    assert classes["env.SettingsError"] == ["UsageError", "ValueError"]
    assert "ranges.RangeUsageError" in classes  # derived from one of ours, not a built-in
