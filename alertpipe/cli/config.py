"""``alertpipe config reference``: the configuration reference, from the settings code."""

from __future__ import annotations

from pathlib import Path

import click

from alertpipe.cli.common import fail
from alertpipe.cli.group import CommandGroup


@click.group(cls=CommandGroup)
def config() -> None:
    """What alertpipe can be configured with."""


@config.command()
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the page to this file instead of standard output.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 if --output's file differs from what the code generates.",
)
def reference(output: Path | None, check: bool) -> None:
    """Print every setting (environment variable, default, meaning) and the options of
    `alertpipe ingress` and `alertpipe worker` as Markdown: docs/configuration.md
    (`make docs` writes it; a test fails when it is stale)."""
    from alertpipe.cli.ingress import ingress
    from alertpipe.cli.worker import worker
    from alertpipe.configdoc import render

    page = render({"ingress": ingress, "worker": worker})
    if check:
        if output is None:
            fail("--check needs --output FILE", 2)
        if not output.exists() or output.read_text() != page:
            fail(f"{output} is stale: run `make docs` (alertpipe config reference --output ...)")
        click.echo(f"{output} matches the code.")
    elif output is None:
        click.echo(page, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(page)
        click.echo(f"wrote {output}")
