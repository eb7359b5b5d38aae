"""The source mappings, named explicitly: one module per schema in ``schemas/sources``.

A registry test fails when a schema has no mapping here, a mapping has no schema, or a source
has no sample body under ``tests/fixtures/<name>/``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from processors.draft import AlertDraft, MapContext
from processors.sources import generic, pingometer, thousandeyes

Mapping = Callable[[dict[str, Any], MapContext], list[AlertDraft]]

MAPPINGS: dict[str, Mapping] = {
    "generic": generic.map_event,
    "pingometer": pingometer.map_event,
    "thousandeyes": thousandeyes.map_event,
}
