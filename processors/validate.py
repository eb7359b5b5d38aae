"""Per-source JSON Schema validation on the hot path: jsonschema-rs validators compiled once.

``jsonschema`` (the reference implementation) is kept as the oracle in a differential test.
A ``SchemaSet`` is the compiled form of a catalog of sources: each one's validator and mapping.
The built-in sources are used unless one is passed (the ingress, the worker and the CLI build
it once, from ``ALERTPIPE_SOURCES_DIR`` and ``ALERTPIPE_SCHEMA_DIR``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from processors.deadletter import DeadLetter
from processors.sources import mappings_for
from schemas.registry import RegistryError, SourceInfo, catalog


class SchemaSet:
    """The compiled validator and mapping of every source. Raises RegistryError naming the
    file (and for a mapping file the line) that cannot be compiled."""

    def __init__(self, sources: Mapping[str, SourceInfo]) -> None:
        self.sources = dict(sources)
        self.mappings = mappings_for(self.sources)
        self._validators: dict[str, Any] = {}
        for name, info in self.sources.items():
            try:
                self._validators[name] = jsonschema_rs.validator_for(info.schema)
            except Exception as exc:  # jsonschema-rs raises its own types for bad schemas
                raise RegistryError(f"{info.origin or name}: not a usable schema: {exc}") from exc
        # What stage 1 needs of a source besides its mapping, in one lookup per body: the
        # fields whose text is embedded JSON, and the validator.
        self.checks: dict[str, tuple[tuple[str, ...], Any]] = {
            name: (info.embedded_json, self._validators[name])
            for name, info in self.sources.items()
        }

    def validator(self, source: str) -> Any:
        return self._validators[source]


@cache
def schema_set(fixes: Path | None = None, extra: Path | None = None) -> SchemaSet:
    """The built-in sources with an operator's folders of ``extra`` beside them and the fixed
    schemas of ``fixes`` in front (``schemas.registry.catalog``). Raises RegistryError."""
    return SchemaSet(catalog(extra, fixes))


def json_path(parts: list[str | int], data: Any = None) -> str:
    """``["alert", "agents", 0]`` -> ``$.alert.agents[0]`` (bracketed when not identifier-like).
    With ``data``, the instance the parts point into: jsonschema-rs reports an object's key
    "0" as the integer 0, and a key of an object is rendered as the string it is."""
    out, node = "$", data
    for part in parts:
        if isinstance(node, dict):
            part = str(part)
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += "[" + repr(part) + "]"
        node = _child(node, part)
    return out


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
        return node[part]
    return None


def validate(source: str, data: Any, schemas: SchemaSet | None = None) -> DeadLetter | None:
    """None when ``data`` is valid for ``source``; else a ``schema`` dead letter naming the
    first error and its JSON path."""
    check = (schemas or schema_set()).validator(source)
    try:
        if check.is_valid(data):
            return None
        error = next(iter(check.iter_errors(data)))
    except ValueError as exc:  # a value jsonschema-rs cannot represent
        return DeadLetter("schema", f"body cannot be validated: {exc}")
    return DeadLetter("schema", error.message[:1000], json_path(list(error.instance_path), data))


def schema_errors(
    source: str, data: Any, schemas: SchemaSet | None = None
) -> list[tuple[str, str]]:
    """Every schema error of ``data`` as (JSON path, message), in the validator's order; the
    first is the one a dead letter names (for ``alertpipe explain``)."""
    check = (schemas or schema_set()).validator(source)
    try:
        return [
            (json_path(list(e.instance_path), data), e.message) for e in check.iter_errors(data)
        ]
    except ValueError as exc:
        return [("$", f"body cannot be validated: {exc}")]
