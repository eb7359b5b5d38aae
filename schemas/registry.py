"""The source registry: every ``schemas/sources/<name>.schema.json`` is a source.

Each schema carries an ``x-alertpipe`` block with the URL paths the ingress serves it under and
the content types it accepts, so adding a source needs no ingress change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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
    return SourceInfo(name, paths, types, schema)


@cache
def load_sources(directory: Path = SOURCES_DIR) -> dict[str, SourceInfo]:
    """All sources by name, read once per directory."""
    return {info.name: info for info in map(_load, sorted(directory.glob(f"*{SUFFIX}")))}
