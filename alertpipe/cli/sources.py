"""``alertpipe sources``: the sources the registry knows, checking source folders, and what a
body becomes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from alertpipe.cli.common import EXIT_USAGE, INPUT_FILE, fail, read_input, settings_or_exit
from alertpipe.cli.group import CommandGroup
from schemas.registry import RegistryError, SourceInfo

if TYPE_CHECKING:
    from processors.sources import Mapping

FORM = "application/x-www-form-urlencoded"
DIR_HELP = "A directory of sources [default: the built-in ones and ALERTPIPE_SOURCES_DIR's]."


def _load(directory: Path | None) -> tuple[dict[str, SourceInfo], dict[str, Mapping]]:
    """The sources of ``directory``; without one, those the pipeline serves (the built-in
    ones and ALERTPIPE_SOURCES_DIR's)."""
    from processors.sources import mappings_for
    from schemas.registry import catalog, load_sources

    try:
        if directory is not None:
            sources = load_sources(directory.resolve())
        else:
            sources = catalog(settings_or_exit().sources_dir)
        return sources, mappings_for(sources)
    except RegistryError as exc:
        fail(str(exc), EXIT_USAGE)


def _content_type(path: Path, info: SourceInfo) -> str:
    if path.suffix == ".form" and FORM in info.content_types:
        return FORM
    return (
        "application/json" if "application/json" in info.content_types else min(info.content_types)
    )


@click.group(cls=CommandGroup)
def sources() -> None:
    """The sources alertpipe accepts: built-in, or a directory of source folders."""


@sources.command("list")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), help=DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
def list_sources(directory: Path | None, as_json: bool) -> None:
    """Name, mapping kind, URLs (path prefixes after /integrations/, or an endpoint of its
    own), content types and title of every source."""
    found, _ = _load(directory)
    width = max((len(name) for name in found), default=0)
    widest = max((len(", ".join(i.media_types)) for i in found.values()), default=0)
    for name, info in sorted(found.items()):
        kind = "declarative" if info.mapping is not None else "python"
        types = list(info.media_types or sorted(info.content_types))
        endpoint = [info.endpoint] if info.endpoint else []
        if as_json:
            row = {
                "name": name,
                "title": info.title,
                "mapping": kind,
                "protocol": info.protocol,
                "paths": [f"/integrations/{p}/<integration-key>/<routing-key>" for p in info.paths]
                + endpoint,
                "content_types": types,
                "samples": len(info.samples),
            }
            click.echo(json.dumps(row))
        else:
            urls, accepted = ", ".join([*info.paths, *endpoint]), ", ".join(types)
            click.echo(f"{name:{width}} {kind:12} {urls:34} {accepted:{widest}} {info.title}")


@sources.command("lint")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def lint(directory: Path | None) -> None:
    """Load DIRECTORY's sources (default: the built-in ones), compile their mappings, and map
    every sample of every source folder. Exit 1 naming each sample that fails."""
    from processors.sourcecheck import check_body

    found, mappings = _load(directory)
    failures, checked = 0, 0
    for name, info in sorted(found.items()):
        for path in info.samples:
            checked += 1
            result = check_body(
                info,
                mappings[name],
                path.read_bytes(),
                _content_type(path, info),
                1,
            )
            if result.error is not None:
                failures += 1
                where = f" at {result.error.path}" if result.error.path else ""
                click.echo(f"{path}: {result.error.code}{where}: {result.error.message}")
            elif not result.alerts:
                failures += 1
                click.echo(f"{path}: no alert")
    if failures:
        fail(f"{failures} of {checked} samples failed")
    click.echo(f"{len(found)} sources, {checked} samples: ok")


@sources.command("test")
@click.argument("name")
@click.option(
    "--body",
    "body_file",
    required=True,
    type=INPUT_FILE,
    help="The body to map (a file, or - for standard input).",
)
@click.option("--content-type", help="Default: application/json (form for a .form file).")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), help=DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON only (alerts, or the error).")
def test_body(
    name: str, body_file: Path, content_type: str | None, directory: Path | None, as_json: bool
) -> None:
    """What source NAME makes of a body: the normalized alerts, or the error with its path."""
    from processors.sourcecheck import check_body

    found, mappings = _load(directory)
    if name not in found:
        fail(f"unknown source {name!r}; known: {', '.join(sorted(found))}", EXIT_USAGE)
    info = found[name]
    ctype = content_type or _content_type(body_file, info)
    result = check_body(
        info,
        mappings[name],
        read_input(body_file),
        ctype,
        int(time.time() * 1000),
    )
    if result.error is not None:
        error = {"code": result.error.code, "message": result.error.message}
        if result.error.path:
            error["path"] = result.error.path
        click.echo(json.dumps({"error": error}) if as_json else f"error: {error}")
        raise SystemExit(1)
    alerts = [json.loads(a) for a in result.alerts]
    click.echo(json.dumps(alerts, indent=None if as_json else 2, ensure_ascii=False))
