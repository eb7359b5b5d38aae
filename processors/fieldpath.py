"""Field paths of declarative mappings (``labels.severity``, ``alerts[0].status``,
``annotations["runbook url"]``, ``$.externalURL`` from the body root), compiled once to
closures of one or two ``dict.get`` calls. Pure; a compiled getter takes (alert, body) and
never raises for any JSON data."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from schemas.errors import UsageError

Getter = Callable[[Any, Any], Any]
Where = tuple[str | int, ...]
# A field path of object keys only, as (from the body?, keys).
KeyPath = tuple[bool, tuple[str, ...]]


class SpecError(UsageError, ValueError):
    """A spec that cannot be compiled; ``where`` is its path inside the mapping file."""

    def __init__(self, where: Where, message: str) -> None:
        super().__init__(message)
        self.where = where


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_BRACKET = re.compile(r"""\[(?:(\d+)|"([^"]*)"|'([^']*)')\]""")


def parse_path(text: str) -> tuple[bool, tuple[str | int, ...]]:
    """``(from the body root, steps)``; raises ValueError for bad syntax."""
    root = text.startswith("$")
    at = 1 if root else 0
    steps: list[str | int] = []
    while at < len(text):
        dotted = text[at] == "."
        if dotted or (at == 0 and text[0] != "["):
            name = _NAME.match(text, at + int(dotted))
            if name is None:
                raise ValueError(f"bad field path {text!r}: a name is expected at {at + 1}")
            steps.append(name.group(0))
            at = name.end()
            continue
        found = _BRACKET.match(text, at)
        if found is None:
            raise ValueError(f"bad field path {text!r} at character {at + 1}")
        index, dq, sq = found.groups()
        steps.append(int(index) if index is not None else (dq if dq is not None else sq))
        at = found.end()
    if not steps and not root:
        raise ValueError("an empty field path")
    return root, tuple(steps)


def _walk(value: Any, steps: tuple[str | int, ...]) -> Any:
    for step in steps:
        if type(step) is int:
            if type(value) is not list or step >= len(value):
                return None
        elif type(value) is not dict:
            return None
        else:
            value = value.get(step)
            continue
        value = value[step]
    return value


def compile_path(text: str, where: Where) -> Getter:
    try:
        root, steps = parse_path(text)
    except ValueError as exc:
        raise SpecError(where, str(exc)) from None
    if len(steps) == 1 and isinstance(steps[0], str):  # the common case: one dict lookup
        key = steps[0]
        if root:
            return lambda a, b: b.get(key) if type(b) is dict else None
        return lambda a, b: a.get(key) if type(a) is dict else None
    if len(steps) == 2 and isinstance(steps[0], str) and isinstance(steps[1], str):
        k1, k2 = steps
        if root:

            def two_from_root(a: Any, b: Any) -> Any:
                inner = b.get(k1) if type(b) is dict else None
                return inner.get(k2) if type(inner) is dict else None

            return two_from_root

        def two(a: Any, b: Any) -> Any:
            inner = a.get(k1) if type(a) is dict else None
            return inner.get(k2) if type(inner) is dict else None

        return two
    if len(steps) == 3 and all(isinstance(step, str) for step in steps):
        k1, k2, k3 = (str(step) for step in steps)

        def three(a: Any, b: Any) -> Any:
            value = b if root else a
            value = value.get(k1) if type(value) is dict else None
            value = value.get(k2) if type(value) is dict else None
            return value.get(k3) if type(value) is dict else None

        return three
    if all(isinstance(step, str) for step in steps):  # keys only: no index to check
        keys = tuple(str(step) for step in steps)

        def keys_from(value: Any) -> Any:
            for key in keys:
                if type(value) is not dict:
                    return None
                value = value.get(key)
            return value

        if root:
            return lambda a, b: keys_from(b)
        return lambda a, b: keys_from(a)
    if root:
        return lambda a, b: _walk(b, steps)
    return lambda a, b: _walk(a, steps)


def key_path(spec: Any) -> KeyPath | None:
    """``spec`` (a field path, or ``{path: ...}`` alone) as a path of object keys; None for
    anything else (an index, steps, another kind of value spec)."""
    if isinstance(spec, dict) and spec.keys() == {"path"}:
        spec = spec["path"]
    if not isinstance(spec, str):
        return None
    try:
        root, steps = parse_path(spec)
    except ValueError:
        return None
    keys = tuple(step for step in steps if isinstance(step, str))
    return (root, keys) if keys and len(keys) == len(steps) else None
