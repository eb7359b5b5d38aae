"""The source registry: every ``schemas/sources/<name>.schema.json`` is a source.

Each schema carries an ``x-alertpipe`` block with the URL paths the ingress serves it under and
the content types it accepts, so adding a source needs no ingress change.

A directory of fixed schemas (``ALERTPIPE_SCHEMA_DIR``) can replace the schema of a known
source without a release, e.g. to accept a field a sender started to send, then redrive its
dead letters (``alertpipe dlq redrive``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

SOURCES_DIR = Path(__file__).parent / "sources"
SUFFIX = ".schema.json"


class RegistryError(ValueError):
    """A schema file is unreadable or lacks its ``x-alertpipe`` block."""


@dataclass(frozen=True)
class SourceInfo:
    name: str
    # URL path prefixes after /integrations/, e.g. "thousandeyes/v1".
    paths: tuple[str, ...]
    # Accepted media types, without parameters (charset and the like are ignored).
    content_types: frozenset[str]
    schema: dict[str, Any]
    origin: Path | None = None  # the file the schema was read from


def _load(path: Path) -> SourceInfo:
    name = path.name.removesuffix(SUFFIX)
    try:
        schema = json.loads(path.read_text())
        meta = schema["x-alertpipe"]
        paths = tuple(str(p).strip("/") for p in meta["paths"])
        types = frozenset(str(t).lower() for t in meta["content_types"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RegistryError(f"{path}: not a usable source schema ({exc!r})") from exc
    if not paths or not types:
        raise RegistryError(f"{path}: x-alertpipe needs paths and content_types")
    return SourceInfo(name, paths, types, schema, path)


@cache
def load_sources(directory: Path = SOURCES_DIR) -> dict[str, SourceInfo]:
    """All sources by name, read once per directory."""
    return {info.name: info for info in map(_load, sorted(directory.glob(f"*{SUFFIX}")))}


@cache
def with_fixed_schemas(fixes: Path, directory: Path = SOURCES_DIR) -> dict[str, SourceInfo]:
    """The sources of ``directory``, each schema found in ``fixes`` as ``<source>.schema.json``
    replacing the built-in one. Only the schema changes: URL paths and content types stay the
    built-in ones (an ``x-alertpipe`` block in a fixed schema is ignored), and a file for a
    source without a mapping is refused, since a new source needs code too."""
    sources = load_sources(directory)
    fixed = dict(sources)
    for path in sorted(fixes.glob(f"*{SUFFIX}")):
        name = path.name.removesuffix(SUFFIX)
        if name not in sources:
            known = ", ".join(sorted(sources))
            raise RegistryError(f"{path}: no source named {name!r} (known: {known})")
        try:
            schema = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise RegistryError(f"{path}: not readable JSON ({exc})") from exc
        if not isinstance(schema, dict):
            raise RegistryError(f"{path}: a JSON Schema must be an object")
        fixed[name] = replace(sources[name], schema=schema, origin=path)
    return fixed
