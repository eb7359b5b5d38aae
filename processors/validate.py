"""Per-source JSON Schema validation on the hot path: jsonschema-rs validators compiled once.

``jsonschema`` (the reference implementation) is kept as the oracle in a differential test.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema_rs

from processors.deadletter import DeadLetter
from schemas.registry import load_sources


@cache
def validator(source: str) -> Any:
    return jsonschema_rs.validator_for(load_sources()[source].schema)


def json_path(parts: list[str | int]) -> str:
    """``["alert", "agents", 0]`` -> ``$.alert.agents[0]`` (bracketed when not identifier-like)."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += "[" + repr(part) + "]"
    return out


def validate(source: str, data: Any) -> DeadLetter | None:
    """None when ``data`` is valid for ``source``; else a ``schema`` dead letter naming the
    first error and its JSON path."""
    check = validator(source)
    try:
        if check.is_valid(data):
            return None
        error = next(iter(check.iter_errors(data)))
    except ValueError as exc:  # a value jsonschema-rs cannot represent
        return DeadLetter("schema", f"body cannot be validated: {exc}")
    return DeadLetter("schema", error.message[:1000], json_path(list(error.instance_path)))
