"""``alertpipe contracts generate|openapi``: the documents that list sources, from the
registry (``alertpipe.contracts``, ``ingest.openapidoc``)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from alertpipe.cli.common import EXIT_USAGE, fail, settings_or_exit
from alertpipe.cli.group import CommandGroup
from schemas.registry import RegistryError

ROOT_HELP = "The checkout whose schemas/asyncapi.yaml and README.md to write [default: .]."


@click.group(cls=CommandGroup)
def contracts() -> None:
    """The API documents' source lists, generated from the source registry."""


@contracts.command()
@click.option(
    "--root",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path(),
    help=ROOT_HELP,
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 naming each stale file.")
def generate(root: Path, check: bool) -> None:
    """Rewrite the generated parts of schemas/asyncapi.yaml (one raw message per built-in
    source) and of README.md (the table of sources) from the built-in sources. `make
    contracts` runs it; a test runs it with --check, so a source folder added without it
    fails the tests. An operator's folders are not part of these files: the ingress's
    /openapi.json describes them (`alertpipe contracts openapi`)."""
    from alertpipe.contracts import StaleDocument, generated_documents
    from schemas.registry import load_sources

    try:
        documents = generated_documents(root, load_sources())
    except (OSError, StaleDocument, RegistryError) as exc:
        fail(str(exc), EXIT_USAGE)
    stale = [d for d in documents if d.stale]
    if check:
        if stale:
            names = ", ".join(str(d.path) for d in stale)
            fail(f"stale: {names}: run `make contracts` (alertpipe contracts generate)")
        click.echo(f"{len(documents)} documents match the source registry.")
        return
    for document in stale:
        document.path.write_text(document.wanted)
        click.echo(f"wrote {document.path}")
    if not stale:
        click.echo("up to date")


@contracts.command()
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the document to this file instead of standard output.",
)
def openapi(output: Path | None) -> None:
    """Print the OpenAPI document an ingress with these settings serves at /openapi.json:
    the built-in sources and ALERTPIPE_SOURCES_DIR's folders."""
    from ingest.openapidoc import openapi_document
    from schemas.registry import catalog

    try:
        sources = catalog(settings_or_exit().sources_dir)
    except RegistryError as exc:
        fail(str(exc), EXIT_USAGE)
    text = json.dumps(openapi_document(sources), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"wrote {output}")
