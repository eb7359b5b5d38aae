"""A declarative source's ``mapping.yaml``: read with the line of every key and item, and
checked against ``source-mapping.schema.json`` (beside this file), so that a wrong file stops
the process with its path, the line and what is wrong.

The value specs inside ``fields``, ``details`` and ``annotations`` are checked further where
they are compiled (``processors.declarative``), with the same ``file:line:`` messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from schemas.errors import UsageError

META_SCHEMA = Path(__file__).parent / "source-mapping.schema.json"
Where = tuple[str | int, ...]


class MappingFileError(UsageError, ValueError):
    """An unusable mapping file; the message is ``<file>:<line>: <what is wrong>``."""


@dataclass(frozen=True)
class MappingFile:
    path: Path
    data: dict[str, Any]
    # The 1-based line of each key (mapping) or item (sequence), by its path in ``data``.
    lines: Mapping[Where, int]

    def line(self, where: Where) -> int:
        """The line of ``where``, or of its nearest enclosing node that has one."""
        for end in range(len(where), -1, -1):
            found = self.lines.get(where[:end])
            if found is not None:
                return found
        return 1

    def error(self, where: Where, message: str) -> MappingFileError:
        dotted = ".".join(str(p) for p in where)
        return MappingFileError(
            f"{self.path}:{self.line(where)}: {dotted + ': ' if dotted else ''}{message}"
        )


def _lines(node: yaml.Node, where: Where, out: dict[Where, int], path: Path) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            at = (*where, name)
            if name in seen:
                raise MappingFileError(f"{path}:{key.start_mark.line + 1}: duplicate key {name!r}")
            seen.add(name)
            out[at] = key.start_mark.line + 1
            _lines(value, at, out, path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out[(*where, index)] = item.start_mark.line + 1
            _lines(item, (*where, index), out, path)


@cache
def _meta_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(META_SCHEMA.read_text()))


def read_mapping_file(path: Path) -> MappingFile:
    """Parse and check ``path``; raises MappingFileError naming the file and the line."""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except OSError as exc:
        raise MappingFileError(f"{path}:1: cannot be read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise MappingFileError(f"{path}:1: not UTF-8 text") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        raise MappingFileError(f"{path}:{line}: not valid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise MappingFileError(f"{path}:1: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or root is None:
        raise MappingFileError(f"{path}:1: a mapping file is a YAML mapping (key: value)")
    lines: dict[Where, int] = {}
    _lines(root, (), lines, path)
    found = MappingFile(path, data, lines)
    errors = sorted(
        _meta_validator().iter_errors(data), key=lambda e: found.line(tuple(e.absolute_path))
    )
    if errors:
        raise _located(found, errors[0])
    return found


def _located(found: MappingFile, error: jsonschema.ValidationError) -> MappingFileError:
    """An unknown key is named at its own line (jsonschema reports it at its parent's)."""
    where = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(
            (k for k in error.instance if k not in known), key=lambda k: found.line((*where, k))
        )
        if extra and known:
            return found.error((*where, extra[0]), f"unknown key (known: {', '.join(known)})")
    return found.error(where, error.message)
