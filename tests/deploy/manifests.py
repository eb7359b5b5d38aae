"""Reading deploy/ files, and checking that the alertpipe arguments they give a container are
a real command line (parsed by the CLI itself, without running anything)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import yaml

from alertpipe.cli import cli
from alertpipe.configref import SETTINGS

DEPLOY = Path(__file__).parents[2] / "deploy"
SETTING_NAMES = {doc.env for doc in SETTINGS}


def yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def parse_command_line(args: Sequence[str]) -> list[str]:
    """Resolve ``alertpipe ARGS`` to its command path and parse its options; raises
    click.UsageError (or a subclass) when the arguments are not a valid command line."""
    command: click.Command = cli
    rest = list(args)
    path = []
    while isinstance(command, click.Group):
        if not rest:
            raise click.UsageError(f"{' '.join(args)!r} names a group, not a command")
        name, rest = rest[0], rest[1:]
        sub = command.get_command(click.Context(command), name)
        if sub is None:
            raise click.UsageError(f"no command {name!r} in {' '.join(args)!r}")
        command = sub
        path.append(name)
    with command.make_context(" ".join(["alertpipe", *path]), rest, resilient_parsing=False):
        pass
    return path
