"""The value language of declarative mappings, compiled once to closures. Pure.

A value spec is a field path (``labels.severity``, ``alerts[0].status``, ``$.externalURL``,
``annotations["runbook url"]``; relative to the current alert, ``$`` for the whole body) or
an object with exactly one of

    path: <field path>           value: <fixed value>
    template: "x {path} y"       (``{path|filter}``, ``{{``/``}}`` for braces; missing when
                                 any path in it is missing)
    first: [spec, ...]           (the first that is not missing)
    join: [spec, ...], sep: " "  (the parts that are not missing; missing when none is)
    switch: spec, cases: {text: spec}, default: spec

and the optional steps ``filters: [strip|lower|upper|labels_hash|nonblank|urlencode|arn_partition|
arn_region|arn_account]``, ``map: {text: value}``
(an unmapped value becomes ``default``, or missing), ``time: rfc3339|epoch|utc_text|<strptime
format>`` (epoch milliseconds), ``default: value`` (when missing). Missing means absent, None
or "". A compiled getter takes (alert, body) and never raises for any JSON data.

Why not JMESPath or JSONPath: with their lookups in place of ours, a mapping costs 3-11x the
hand-written one per body (``python -m bench.mapping_cost``), over the 1.5x budget; this
compiles each path to one or two ``dict.get`` calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from processors.fieldpath import Getter, SpecError, Where, compile_path
from processors.mapvalues import FILTERS, as_text, filter_chain, time_parser

KINDS = ("path", "value", "template", "first", "join", "switch")
STEPS = ("filters", "map", "time", "default")
EXTRA = {"join": ("sep",), "switch": ("cases",)}


def _missing(value: Any) -> bool:
    return value is None or value == ""


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def _placeholder(text: str, where: Where) -> Getter:
    """``path`` or ``path|filter|...`` inside a template."""
    path, *names = (part.strip() for part in text.split("|"))
    get = compile_path(path, where)
    unknown = [n for n in names if n not in FILTERS]
    if unknown:
        raise SpecError(where, f"unknown filter {unknown[0]!r} (known: {', '.join(FILTERS)})")
    if not names:
        return get
    apply = filter_chain(names)

    def filtered(a: Any, b: Any) -> Any:
        value = get(a, b)
        return None if value is None or value == "" else apply(value)

    return filtered


def template_tokens(text: Any, where: Where) -> Iterator[tuple[bool, str]]:
    """A template as (is a placeholder?, text) in order: literal text (braces unescaped) and
    the inside of each placeholder (``path`` or ``path|filter|...``); raises SpecError when
    it reaches a brace that is not one."""
    if not isinstance(text, str):
        raise SpecError(where, "a template is text")
    at = 0
    for found in _PLACEHOLDER.finditer(text):
        yield (False, text[at : found.start()])
        token = found.group(0)
        if token in ("{{", "}}"):
            yield (False, token[0])
        elif found.group(1) is None:
            raise SpecError(where, f"unbalanced {token!r} in template (write {token * 2})")
        else:
            yield (True, found.group(1))
        at = found.end()
    yield (False, text[at:])


def _template(text: Any, where: Where) -> Getter:
    parts: list[str | Getter] = [
        _placeholder(inside, where) if placeholder else inside
        for placeholder, inside in template_tokens(text, where)
    ]
    pieces = tuple(p for p in parts if p != "")
    getters = [p for p in pieces if not isinstance(p, str)]
    if len(getters) == 1:  # the common case: text around one value
        get = getters[0]
        at_get = pieces.index(get)
        head = "".join(p for p in pieces[:at_get] if isinstance(p, str))
        tail = "".join(p for p in pieces[at_get + 1 :] if isinstance(p, str))

        def render_one(a: Any, b: Any) -> str | None:
            value = get(a, b)
            if value is None or value == "":
                return None
            return head + (value if type(value) is str else as_text(value)) + tail

        return render_one
    if len(getters) == 2 and len(pieces) <= 5:  # "a{x}b{y}c": two values
        texts = ["", "", ""]
        slot = 0
        for piece in pieces:
            if isinstance(piece, str):
                texts[slot] += piece
            else:
                slot += 1
        first_get, second_get = getters
        t0, t1, t2 = texts

        def render_two(a: Any, b: Any) -> str | None:
            x = first_get(a, b)
            if x is None or x == "":
                return None
            y = second_get(a, b)
            if y is None or y == "":
                return None
            return (
                t0
                + (x if type(x) is str else as_text(x))
                + t1
                + (y if type(y) is str else as_text(y))
                + t2
            )

        return render_two

    def render(a: Any, b: Any) -> str | None:
        out = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            value = piece(a, b)
            if value is None or value == "":
                return None
            out.append(value if type(value) is str else as_text(value))
        return "".join(out)

    return render


def _specs(items: Any, where: Where, kind: str) -> list[Getter]:
    if not isinstance(items, list) or not items:
        raise SpecError(where, f"{kind} takes a non-empty list of value specs")
    return [compile_spec(item, (*where, i)) for i, item in enumerate(items)]


def _kind(spec: Mapping[str, Any], where: Where) -> Getter:
    kinds = [k for k in KINDS if k in spec]
    if len(kinds) != 1:
        raise SpecError(where, f"a value spec has exactly one of {', '.join(KINDS)}")
    kind = kinds[0]
    allowed = {kind, *STEPS, *EXTRA.get(kind, ())}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise SpecError(
            (*where, unknown[0]), f"unknown key {unknown[0]!r} (allowed: {sorted(allowed)})"
        )
    body = spec[kind]
    at = (*where, kind)
    if kind == "path":
        if not isinstance(body, str):
            raise SpecError(at, "a path is text")
        return compile_path(body, at)
    if kind == "value":
        return lambda a, b: body
    if kind == "template":
        return _template(body, at)
    if kind == "first":
        options = _specs(body, at, kind)
        if len(options) == 2:
            option1, option2 = options

            def first_of_two(a: Any, b: Any) -> Any:
                value = option1(a, b)
                return option2(a, b) if value is None or value == "" else value

            return first_of_two

        def first(a: Any, b: Any) -> Any:
            for option in options:
                value = option(a, b)
                if value is not None and value != "":
                    return value
            return None

        return first
    if kind == "join":
        parts, sep = _specs(body, at, kind), spec.get("sep", " ")
        if not isinstance(sep, str):
            raise SpecError((*where, "sep"), "sep is text")

        if len(parts) == 2:
            part1, part2 = parts

            def join_two(a: Any, b: Any) -> str | None:
                x, y = part1(a, b), part2(a, b)
                x = None if x is None or x == "" else x if type(x) is str else as_text(x)
                y = None if y is None or y == "" else y if type(y) is str else as_text(y)
                if x is None:
                    return y
                return x if y is None else x + sep + y

            return join_two

        def join(a: Any, b: Any) -> str | None:
            found = [as_text(v) for v in (p(a, b) for p in parts) if not _missing(v)]
            return sep.join(found) if found else None

        return join
    return _switch(spec, where)


def _switch(spec: Mapping[str, Any], where: Where) -> Getter:
    on = compile_spec(spec["switch"], (*where, "switch"))
    cases = spec.get("cases")
    if not isinstance(cases, dict) or not cases:
        raise SpecError((*where, "cases"), "a switch needs cases: {value: spec, ...}")
    compiled = {as_text(k): compile_spec(v, (*where, "cases", str(k))) for k, v in cases.items()}
    # A switch's default is a spec (what to do otherwise), not a fixed value.
    otherwise = compile_spec(spec["default"], (*where, "default")) if "default" in spec else None
    if all(isinstance(v, dict) and set(v) == {"value"} for v in cases.values()):
        fixed = {as_text(k): v["value"] for k, v in cases.items()}  # cases of fixed values
        missing = object()
        default = spec.get("default")
        if isinstance(default, dict) and set(default) == {"value"}:  # a lookup, all fixed
            constant = default["value"]

            def switch_constant(a: Any, b: Any) -> Any:
                key = on(a, b)
                if key is None:
                    return constant
                return fixed.get(key if type(key) is str else as_text(key), constant)

            return switch_constant

        def switch_fixed(a: Any, b: Any) -> Any:
            key = on(a, b)
            if key is not None:
                found = fixed.get(key if type(key) is str else as_text(key), missing)
                if found is not missing:
                    return found
            return otherwise(a, b) if otherwise is not None else None

        return switch_fixed

    def switch(a: Any, b: Any) -> Any:
        key = on(a, b)
        chosen = None if key is None else compiled.get(key if type(key) is str else as_text(key))
        if chosen is not None:
            return chosen(a, b)
        return otherwise(a, b) if otherwise is not None else None

    return switch


def compile_spec(spec: Any, where: Where) -> Getter:
    """``spec`` (YAML data) -> a getter; raises SpecError naming where it is wrong."""
    if isinstance(spec, str):
        return compile_path(spec, where)
    if not isinstance(spec, dict):
        raise SpecError(where, "a value spec is a field path or an object (path, value, ...)")
    get = _kind(spec, where)
    if "switch" in spec:
        steps = {k: spec[k] for k in STEPS if k in spec and k != "default"}
    else:
        steps = {k: spec[k] for k in STEPS if k in spec}
    return _with_steps(get, steps, where)


def _with_steps(get: Getter, steps: Mapping[str, Any], where: Where) -> Getter:
    if not steps:
        return get
    names = steps.get("filters", [])
    if not isinstance(names, list) or any(n not in FILTERS for n in names):
        raise SpecError((*where, "filters"), f"filters are a list of {', '.join(FILTERS)}")
    table = steps.get("map")
    if table is not None and not isinstance(table, dict):
        raise SpecError((*where, "map"), "map is an object: {text: value}")
    to_time = time_parser(steps["time"], (*where, "time")) if "time" in steps else None
    has_default, default = "default" in steps, steps.get("default")
    if not names and table is None and to_time is None:

        def or_default(a: Any, b: Any) -> Any:
            value = get(a, b)
            return default if value is None or value == "" else value

        return or_default
    if not names and table is None and to_time is not None and not has_default:
        time_of = to_time

        def timed(a: Any, b: Any) -> Any:
            value = get(a, b)
            return None if value is None or value == "" else time_of(value)

        return timed
    apply = filter_chain(names) if names else None
    lookup = {as_text(k): v for k, v in table.items()} if table is not None else None

    def stepped(a: Any, b: Any) -> Any:
        value = get(a, b)
        if value is not None and value != "":
            if apply is not None:
                value = apply(value)
            if lookup is not None and value is not None:
                value = lookup.get(value if type(value) is str else as_text(value))
            if to_time is not None and value is not None:
                value = to_time(value)
        if has_default and (value is None or value == ""):
            return default
        return value

    return stepped


def map_outputs(spec: Any) -> list[Any]:
    """The fixed values a spec can produce (map values, ``value``, ``default``, nested), to
    check them at compile time (e.g. that a message_type map names only message types)."""
    if not isinstance(spec, dict):
        return []
    out: list[Any] = []
    if isinstance(spec.get("map"), dict):
        out += list(spec["map"].values())
    if "value" in spec:
        out.append(spec["value"])
    if "default" in spec and "switch" not in spec:
        out.append(spec["default"])
    for key in ("first", "join"):
        for item in spec.get(key) or []:
            out += map_outputs(item)
    if "switch" in spec:
        for item in (spec.get("cases") or {}).values():
            out += map_outputs(item)
        out += map_outputs(spec.get("default"))
    return out
