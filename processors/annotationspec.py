"""Annotations of a declarative mapping that are more than one fixed-title field: a title read
from the body (``title_from``), or one annotation per element of a list (``each``: PagerDuty's
``links`` and ``images``). Pure; compiled once, and the compiled function never raises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from processors.draft import FIELD_LIMIT, clip
from processors.fieldpath import Where, compile_path
from processors.mapvalues import as_text
from processors.valuespec import compile_spec
from schemas.normalized import Annotation

# Annotations one list may yield at most: the rest of a huge list is left out, not refused.
MAX_EACH = 100
ManyAnnotations = Callable[[Any, Any], list[Annotation]]


def needs_many(item: Mapping[str, Any]) -> bool:
    """Whether an annotation item of a mapping file needs this module (else it is one field
    read with a fixed title, which the mapping reads inline)."""
    return "each" in item or "title_from" in item


def compile_annotations(item: Mapping[str, Any], where: Where) -> ManyAnnotations:
    """``item``: {kind, title, value, each?, title_from?} -> (alert, body) -> annotations."""
    kind, title = item["kind"], item["title"]
    value = compile_spec(item["value"], (*where, "value"))
    named = (
        compile_spec(item["title_from"], (*where, "title_from")) if "title_from" in item else None
    )

    def one(element: Any, body: Any) -> Annotation | None:
        text = value(element, body)
        if type(text) is not str or not text:
            return None
        name = named(element, body) if named is not None else None
        if name is None or name == "":
            return Annotation(kind, title, text)
        return Annotation(kind, clip(as_text(name), FIELD_LIMIT), text)

    if "each" not in item:
        return lambda alert, body: [found] if (found := one(alert, body)) is not None else []
    elements = compile_path(item["each"], (*where, "each"))

    def many(alert: Any, body: Any) -> list[Annotation]:
        items = elements(alert, body)
        if type(items) is not list:
            return []
        found = (one(element, body) for element in items[:MAX_EACH] if type(element) is dict)
        return [annotation for annotation in found if annotation is not None]

    return many
