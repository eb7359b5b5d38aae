"""Value specs as straight-line code, for the generated per-alert function
(``processors.alertcode``). Pure.

What is generated: a field path of object keys (a ``dict.get`` per key, from the longest
prefix that several paths share, read once per alert), a template whose placeholders are such
paths, and a ``first`` of options, each of them one of those or a call to its compiled
getter. Each computes what its getter in ``processors.valuespec`` computes (tests compare the
generated function with the reference on every sample and on variants of it); anything else
stays a call to its getter.
"""

from __future__ import annotations

from typing import Any

from processors.fieldpath import KeyPath, Where, key_path
from processors.mapvalues import as_text
from processors.valuespec import compile_spec, template_tokens

# A prefix of object keys that several paths share -> the local the generated code reads it
# into once per alert (``p0``, ``p1``, ...): a path then starts from its longest one.
Shared = dict[KeyPath, str]
# A template as code: its literal texts and paths, in order (a str, or a path).
Template = list[str | KeyPath]
_NO_CASE = object()  # a switch's value has no case of a fixed value


def shared_prefixes(paths: list[KeyPath]) -> tuple[Shared, list[str]]:
    """The prefixes that two or more reads of ``paths`` go through, and the code reading
    each into its local, shorter first (as its compiled getter walks: None once a step is
    not an object). Reads have no effects, so reading a prefix first changes no value."""
    uses: dict[KeyPath, int] = {}
    for root, keys in paths:
        for end in range(1, len(keys)):
            uses[root, keys[:end]] = uses.get((root, keys[:end]), 0) + 1
    shared: Shared = {}
    code: list[str] = []
    for prefix in sorted((p for p, n in uses.items() if n > 1), key=lambda p: len(p[1])):
        name = f"p{len(shared)}"
        code += path_code(prefix, name, "    ", shared)
        shared[prefix] = name
    return shared, code


def path_code(path: KeyPath, into: str, indent: str, shared: Shared) -> list[str]:
    """Code reading a path of object keys into ``into``, as its compiled getter does (None
    once a step is not an object): a ``dict.get`` per key, no call; from the longest shared
    prefix of the path when there is one."""
    root, keys = path
    start = next((end for end in range(len(keys) - 1, 0, -1) if (root, keys[:end]) in shared), 0)
    if start:
        held = shared[root, keys[:start]]
        code = [f"{indent}{into} = {held}.get({keys[start]!r}) if type({held}) is dict else None"]
    else:
        code = [f"{indent}{into} = {'body' if root else 'alert'}.get({keys[0]!r})"]
    for key in keys[start + 1 :]:
        code.append(f"{indent}{into} = {into}.get({key!r}) if type({into}) is dict else None")
    return code


def template_of(spec: Any) -> Template | None:
    """``{template: ...}`` alone whose placeholders are all paths of keys (no filters), as
    its literal texts and paths; None for anything else (or a template with no value)."""
    if not isinstance(spec, dict) or spec.keys() != {"template"}:
        return None
    out: Template = []
    for placeholder, inside in template_tokens(spec["template"], ()):
        path = key_path(inside.strip()) if placeholder and "|" not in inside else None
        if placeholder and path is None:
            return None
        if path is not None:
            out.append(path)
        elif inside:
            out.append(inside)
    return out if any(not isinstance(part, str) for part in out) else None


def generated(spec: Any) -> bool:
    """Whether ``spec_code`` writes ``spec`` as code."""
    return _is_first(spec) or _is_switch(spec) or template_of(spec) is not None


def spec_paths(spec: Any) -> list[KeyPath]:
    """The paths of keys that ``spec_code`` of ``spec`` reads inline."""
    if _is_switch(spec):
        options = [spec["switch"], *([spec["default"]] if "default" in spec else [])]
    else:
        options = spec["first"] if _is_first(spec) else [spec]
    out: list[KeyPath] = []
    for option in options:
        path = key_path(option)
        if path is not None:
            out.append(path)
        else:
            out += [p for p in template_of(option) or [] if not isinstance(p, str)]
    return out


def spec_code(
    spec: Any, into: str, shared: Shared, ns: dict[str, Any], where: Where
) -> list[str] | None:
    """Code computing ``spec`` into ``into`` (getters it calls bound in ``ns``); None when
    ``spec`` is neither a ``first`` alone nor a template of paths."""
    if _is_first(spec):
        options = spec["first"]
        # as valuespec's first: the first option not missing (of two: the second whatever
        # it is, as first_of_two; else None when all are missing)
        missing = f"    if {into} is None or {into} == '':"
        code = _option(options[0], into, "    ", shared, ns, (*where, "first", 0))
        for n, option in enumerate(options[1:], 1):
            at = (*where, "first", n)
            code += [missing, *_option(option, into, "        ", shared, ns, at)]
        if len(options) != 2:
            code += [missing, f"        {into} = None"]
        return code
    if _is_switch(spec):
        return _switch(spec, into, shared, ns, where)
    template = template_of(spec)
    return None if template is None else _template(template, into, "    ", shared)


def _is_first(spec: Any) -> bool:
    return (
        isinstance(spec, dict)
        and spec.keys() == {"first"}
        and isinstance(spec["first"], list)
        and bool(spec["first"])
    )


def _is_switch(spec: Any) -> bool:
    return (
        isinstance(spec, dict)
        and {"switch", "cases"} <= spec.keys() <= {"switch", "cases", "default"}
        and isinstance(spec["cases"], dict)
        and bool(spec["cases"])
    )


def _switch(spec: Any, into: str, shared: Shared, ns: dict[str, Any], where: Where) -> list[str]:
    """As valuespec's switch (of no steps): the case of the value as text, a case of a fixed
    value read from a table, another one called; no case (or no value): the default, else
    None."""
    n = sum(1 for k in ns if k.startswith("case_"))
    fixed, calls = f"case_{n}", f"case_call_{n}"
    cases = {as_text(k): (k, v) for k, v in spec["cases"].items()}  # as valuespec: last wins
    ns[fixed] = {
        text: v["value"]
        for text, (_, v) in cases.items()
        if isinstance(v, dict) and v.keys() == {"value"}
    }
    ns[calls] = {
        text: compile_spec(v, (*where, "cases", str(k)))
        for text, (k, v) in cases.items()
        if text not in ns[fixed]
    }
    ns["no_case"] = _NO_CASE
    on = f"{into}_on"
    code = _option(spec["switch"], on, "    ", shared, ns, (*where, "switch"))
    code += [
        f"    if {on} is not None and type({on}) is not str:",
        f"        {on} = as_text({on})",
        f"    {into} = no_case if {on} is None else {fixed}.get({on}, no_case)",
        f"    if {into} is no_case:",
        f"        {into} = {calls}.get({on}) if {on} is not None else None",
        f"        if {into} is not None:",
        f"            {into} = {into}(alert, body)",
    ]
    if "default" in spec:
        code += [
            "        else:",
            *_option(spec["default"], into, "            ", shared, ns, (*where, "default")),
        ]
    return code


def _option(
    spec: Any, into: str, indent: str, shared: Shared, ns: dict[str, Any], where: Where
) -> list[str]:
    path = key_path(spec)
    if path is not None:
        return path_code(path, into, indent, shared)
    template = template_of(spec)
    if template is not None:
        return _template(template, into, indent, shared)
    name = f"o_{sum(1 for k in ns if k.startswith('o_'))}"
    ns[name] = compile_spec(spec, where)
    return [f"{indent}{into} = {name}(alert, body)"]


def _template(template: Template, into: str, indent: str, shared: Shared) -> list[str]:
    """As valuespec's template: missing as soon as one value is; else the texts and the
    values (as text) joined."""
    code: list[str] = []
    parts: list[str] = []
    for part in template:
        if isinstance(part, str):
            parts.append(repr(part))
            continue
        value = f"{into}_{len(parts)}"
        code += path_code(part, value, indent, shared)
        code += [f"{indent}if {value} is None or {value} == '':", f"{indent}    {into} = None"]
        code.append(f"{indent}else:")
        indent += "    "
        parts.append(f"({value} if type({value}) is str else as_text({value}))")
    return [*code, f"{indent}{into} = {' + '.join(parts)}"]
