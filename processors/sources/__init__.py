"""The source mappings, named explicitly: a Python module per flat schema in
``schemas/sources`` (``PYTHON_MAPPINGS``), and the compiled ``mapping.yaml`` of every source
folder (``processors.declarative``). ``processors.validate.SchemaSet`` compiles them once per
catalog, when a process starts: a bad mapping file stops it.

A registry test fails when a schema has no mapping, a mapping has no schema, or a source has
no sample body (``tests/fixtures/<name>/`` or the folder's ``samples/``).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping as MappingOf
from typing import Any

from processors.declarative import compile_mapping
from processors.draft import AlertDraft, MapContext
from processors.sources import pingometer, thousandeyes
from schemas.registry import RegistryError, SourceInfo

Mapping = Callable[[dict[str, Any], MapContext], list[AlertDraft]]

PYTHON_MAPPINGS: dict[str, Mapping] = {
    "pingometer": pingometer.map_event,
    "thousandeyes": thousandeyes.map_event,
}


def mappings_for(sources: MappingOf[str, SourceInfo]) -> dict[str, Mapping]:
    """The mapping of every source: its compiled mapping file, else its Python module.
    Raises RegistryError for a mapping file that does not compile, or a flat schema with no
    Python mapping."""
    out: dict[str, Mapping] = {}
    for name, info in sorted(sources.items()):
        if info.mapping is not None:
            out[name] = compile_mapping(info.mapping)
        elif name in PYTHON_MAPPINGS:
            out[name] = PYTHON_MAPPINGS[name]
        else:
            raise RegistryError(f"{info.origin}: source {name!r} has no mapping")
    return out
