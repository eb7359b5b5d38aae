"""The source registry: every ``schemas/sources/<name>.schema.json`` and every folder
``schemas/sources/<name>/`` is a source.

A flat schema file carries an ``x-alertpipe`` block with the URL paths the ingress serves it
under and the content types it accepts; its mapping is Python (``processors.sources``). A
folder is a declarative source: ``<name>.schema.json``, ``mapping.yaml`` (paths, content
types and how each normalized field is obtained: ``schemas.mappingfile``) and ``samples/``.
Either way, adding a source needs no ingress change.

An operator adds sources of their own as folders in a directory (``ALERTPIPE_SOURCES_DIR``),
read beside the built-in ones (``catalog``). A directory of fixed schemas
(``ALERTPIPE_SCHEMA_DIR``) can replace the schema of a known source without a release, e.g. to
accept a field a sender started to send, then redrive its dead letters (``alertpipe dlq
redrive``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from schemas.errors import UsageError
from schemas.mappingfile import MappingFile, MappingFileError, read_mapping_file

SOURCES_DIR = Path(__file__).parent / "sources"
SUFFIX = ".schema.json"
FOLDER_MAPPING = "mapping.yaml"
FOLDER_SAMPLES = "samples"


class RegistryError(UsageError, ValueError):
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
    # A declarative source's mapping file (None: the mapping is Python, processors.sources).
    mapping: MappingFile | None = None
    # Sample bodies shipped in a declarative source's folder (samples/), sorted.
    samples: tuple[Path, ...] = ()
    # An exact URL path outside /integrations/ (PagerDuty's /v2/enqueue), if any.
    endpoint: str | None = None
    # How the ingress finds the key and answers (schemas/source-mapping.schema.json).
    protocol: str = "alertpipe"
    # Another source whose integration keys this one accepts (None: its own).
    keys_from: str | None = None
    # Other sources whose keys it accepts as well as its own.
    keys_also_from: tuple[str, ...] = ()
    # Top-level fields whose text is a JSON object, decoded before validation (SNS's Message).
    embedded_json: tuple[str, ...] = ()
    # What the API documents say (ingest.openapidoc, alertpipe.contracts): a title, one line
    # of what a body is and becomes (default: the title), what to paste where on the sender's
    # side, and answers documented beyond the protocol's (status -> description).
    title: str = ""
    summary: str = ""
    description: str = ""
    answers: tuple[tuple[int, str], ...] = ()
    # content_types as listed: the first is what the sender usually sends.
    media_types: tuple[str, ...] = ()

    @property
    def key_in_body(self) -> bool:
        """PagerDuty's protocols carry the integration key in the body's routing_key."""
        return self.protocol in BODY_KEY_PROTOCOLS

    @property
    def key_source(self) -> str:
        """The source whose integration keys this one takes first (its own, or keys_from's)."""
        return self.keys_from or self.name

    @property
    def key_sources(self) -> frozenset[str]:
        """Every source whose integration keys are accepted here."""
        return frozenset({self.key_source, *self.keys_also_from})


BODY_KEY_PROTOCOLS = frozenset({"pagerduty_events", "pagerduty_change"})


def _load(path: Path) -> SourceInfo:
    name = path.name.removesuffix(SUFFIX)
    try:
        schema = json.loads(path.read_text())
        meta = schema["x-alertpipe"]
        paths = tuple(str(p).strip("/") for p in meta["paths"])
        listed = tuple(str(t).lower() for t in meta["content_types"])
        title = str(meta.get("title") or schema.get("title") or name)
        summary, description = str(meta.get("summary") or title), str(meta.get("description", ""))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RegistryError(f"{path}: not a usable source schema ({exc!r})") from exc
    if not paths or not listed:
        raise RegistryError(f"{path}: x-alertpipe needs paths and content_types")
    return SourceInfo(
        name,
        paths,
        frozenset(listed),
        schema,
        path,
        title=title,
        summary=summary,
        description=description,
        media_types=listed,
    )


def _read_schema(path: Path) -> dict[str, Any]:
    try:
        schema = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RegistryError(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(schema, dict):
        raise RegistryError(f"{path}: a JSON Schema must be an object")
    return schema


def _load_folder(folder: Path) -> SourceInfo:
    """A declarative source: its schema, its checked mapping file and its samples."""
    # <name>.schema.json: the name a fixed schema has in ALERTPIPE_SCHEMA_DIR too
    schema_path, mapping_path = folder / f"{folder.name}{SUFFIX}", folder / FOLDER_MAPPING
    for needed in (schema_path, mapping_path):
        if not needed.is_file():
            raise RegistryError(f"{folder}: a source folder needs {needed.name}")
    schema = _read_schema(schema_path)
    if "x-alertpipe" in schema:
        raise RegistryError(
            f"{schema_path}: paths and content types of a source folder belong in {FOLDER_MAPPING}"
        )
    try:
        mapping = read_mapping_file(mapping_path)
    except MappingFileError as exc:
        raise RegistryError(str(exc)) from exc
    data = mapping.data
    answers: dict[str, str] = data.get("answers") or {}
    paths = tuple(str(p).strip("/") for p in data.get("paths") or ())
    listed = tuple(str(t).lower() for t in data["content_types"])
    samples = tuple(sorted(p for p in (folder / FOLDER_SAMPLES).glob("*") if p.is_file()))
    return SourceInfo(
        folder.name,
        paths,
        frozenset(listed),
        schema,
        schema_path,
        mapping,
        samples,
        endpoint=data.get("endpoint"),
        protocol=data.get("protocol", "alertpipe"),
        keys_from=data.get("keys_from"),
        keys_also_from=tuple(data.get("keys_also_from") or ()),
        embedded_json=tuple(data.get("embedded_json") or ()),
        title=data["title"],
        summary=data.get("summary") or data["title"],
        description=" ".join(str(data.get("description", "")).split()),
        answers=tuple(sorted((int(s), " ".join(d.split())) for s, d in answers.items())),
        media_types=listed,
    )


@cache
def load_sources(directory: Path = SOURCES_DIR) -> dict[str, SourceInfo]:
    """All sources by name, read once per directory. Raises RegistryError naming the file
    (and for a mapping file the line) that cannot be used, or a URL path served twice."""
    found = [_load(p) for p in sorted(directory.glob(f"*{SUFFIX}"))]
    found += [_load_folder(p) for p in sorted(directory.iterdir()) if _is_source_folder(p)]
    return _by_name(found)


@cache
def catalog(extra: Path | None = None, fixes: Path | None = None) -> dict[str, SourceInfo]:
    """The sources a process serves: the built-in ones, every source folder of ``extra`` (an
    operator's own, ``ALERTPIPE_SOURCES_DIR``), then the fixed schemas of ``fixes``
    (``ALERTPIPE_SCHEMA_DIR``). A flat schema in ``extra`` is refused (its mapping would be
    Python), as is a name or a URL path that a built-in source already has. Read once per
    process; ``read_catalog`` reads the directories again (the console, which outlives a
    fix)."""
    return read_catalog(extra, fixes)


def read_catalog(extra: Path | None = None, fixes: Path | None = None) -> dict[str, SourceInfo]:
    """``catalog``, read from the directories now."""
    found = list(load_sources().values())
    if extra is not None:
        for path in sorted(extra.glob(f"*{SUFFIX}")):
            raise RegistryError(
                f"{path}: an operator's source is a folder (<name>/<name>{SUFFIX}, "
                f"{FOLDER_MAPPING}, {FOLDER_SAMPLES}/), not a flat schema"
            )
        found += [_load_folder(p) for p in sorted(extra.iterdir()) if _is_source_folder(p)]
    sources = _by_name(found)
    return sources if fixes is None else _with_fixes(sources, fixes)


def _by_name(found: list[SourceInfo]) -> dict[str, SourceInfo]:
    sources: dict[str, SourceInfo] = {}
    served: dict[str, str] = {}
    for info in sorted(found, key=lambda i: i.name):
        if info.name in sources:
            raise RegistryError(f"{info.origin}: source {info.name!r} is defined twice")
        for path in (*info.paths, *([info.endpoint] if info.endpoint else [])):
            if path in served:
                raise RegistryError(
                    f"{info.origin}: path {path!r} is already served by {served[path]!r}"
                )
            served[path] = info.name
        sources[info.name] = info
    for info in sources.values():
        if info.keys_from is not None and info.keys_from not in sources:
            raise RegistryError(f"{info.origin}: keys_from names no source ({info.keys_from!r})")
        for other in info.keys_also_from:
            if other not in sources:
                raise RegistryError(f"{info.origin}: keys_also_from names no source ({other!r})")
    return sources


def _is_source_folder(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith((".", "_"))


def _with_fixes(sources: dict[str, SourceInfo], fixes: Path) -> dict[str, SourceInfo]:
    """``sources``, each schema found in ``fixes`` as ``<source>.schema.json`` replacing the
    one it had. Only the schema changes: URL paths and content types stay (an ``x-alertpipe``
    block in a fixed schema is ignored), and a file for no known source is refused."""
    fixed = dict(sources)
    for path in sorted(fixes.glob(f"*{SUFFIX}")):
        name = path.name.removesuffix(SUFFIX)
        if name not in sources:
            known = ", ".join(sorted(sources))
            raise RegistryError(f"{path}: no source named {name!r} (known: {known})")
        schema = _read_schema(path)
        fixed[name] = replace(sources[name], schema=schema, origin=path)
    return fixed
