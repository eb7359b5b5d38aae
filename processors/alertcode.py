"""The per-alert function of a compiled mapping file, generated as straight-line Python (as
``dataclasses`` generates ``__init__``): only the fields the file maps, details and links
unrolled, one-key paths read inline. Pure.

Only names from the file become literals, through ``repr`` (a str's repr is a str literal);
every value spec stays a compiled closure called by the generated code. The generated function
is equivalent to ``_Compiled.one`` in ``processors.declarative`` (tests check both on every
sample); it exists because a call per optional field and per detail was most of what a small
declarative mapping cost over a hand-written one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, get_args

from processors.deadletter import MappingFailure
from processors.draft import FIELD_LIMIT, STATE_MESSAGE_LIMIT, AlertDraft, MapContext
from processors.mapvalues import as_text
from processors.speccode import Shared, generated, path_code, shared_prefixes, spec_code, spec_paths
from schemas.normalized import Annotation, MessageType

if TYPE_CHECKING:
    from processors.declarative import Inline, _Compiled

MESSAGE_TYPES: frozenset[str] = frozenset(get_args(MessageType))
OneAlert = Callable[[Any, Any, MapContext], AlertDraft]
ENTITY_ID_LIMIT = 512  # as processors.declarative
OPTIONAL = ("display", "state", "tool", "hostname", "event_time", "event_id", "is_test")
# The optional fields (``_Compiled`` attribute -> field of the mapping file).
FIELD_OF = {
    "display": "entity_display_name",
    "state": "state_message",
    "tool": "monitoring_tool",
    "hostname": "hostname",
    "event_time": "event_time",
    "event_id": "event_id",
    "is_test": "is_test",
}


def _read(i: str, root: bool, key: str, get: Any, ns: dict[str, Any]) -> str:
    if get is None:
        return f"{'body' if root else 'alert'}.get({key!r})"
    ns[i] = get
    return f"{i}(alert, body)"


def _inline(spec: Inline, shared: Shared, into: str = "value") -> list[str]:
    """Code of an inline spec, as ``processors.valuespec`` computes it: a path; or the first
    of paths that is not missing (of two: the second whatever it is, as ``first_of_two``;
    else None when all are missing, as ``first``)."""
    is_first, paths = spec
    code = path_code(paths[0], into, "    ", shared)
    if not is_first:
        return code
    missing = f"    if {into} is None or {into} == '':"
    for path in paths[1:]:
        code += [missing, *path_code(path, into, "        ", shared)]
    if len(paths) != 2:
        code += [missing, f"        {into} = None"]
    return code


def _rest_and_keyed(compiled: _Compiled, ns: dict[str, Any]) -> list[str]:
    """``_Compiled.rest_and_keyed`` unrolled into the per-alert function."""
    ns["KINDS"], ns["SKIP"] = compiled.key_kinds, compiled.rest_except or frozenset()
    if compiled.key_prefix is None and compiled.rest_except is not None and not ns["SKIP"]:
        return ["    details.update(alert)"]  # every key, in order: a C-level copy
    code = ["    for key, value in alert.items():"]
    prefix = compiled.key_prefix
    if prefix is not None:
        code += [
            f"        if key.startswith({prefix!r}):",
            f"            letter, dot, title = key[{len(prefix)}:].partition('.')",
            "            kind = KINDS.get(letter) if dot else None",
            "            if kind is not None:",
            "                text = value if type(value) is str else str(value)",
            "                annotations.append(Annotation(kind, title, text))",
            "                continue",
        ]
    if compiled.rest_except is not None:
        code += ["        if key not in SKIP:", "            details[key] = value"]
    else:
        code += ["        pass"]
    return code


def generate(compiled: _Compiled, text_of: Callable[[Any, int], str | None]) -> OneAlert:
    ns: dict[str, Any] = {
        "AlertDraft": AlertDraft,
        "Annotation": Annotation,
        "MappingFailure": MappingFailure,
        "MESSAGE_TYPES": MESSAGE_TYPES,
        "as_text": as_text,
        "_text": text_of,
        "g_message_type": compiled.message_type,
        "g_entity_id": compiled.entity_id,
        "no_entity_id": compiled.no_entity_id,
        "note_cut": compiled.note_cut,
    }
    # the fields written as code here (a first of options, a switch, a template of paths)
    as_code = {
        name: spec
        for name, spec in compiled.field_specs.items()
        if generated(spec)
        and name not in compiled.field_values
        and compiled.field_paths.get(name) is None
    }
    inlined = [
        *compiled.field_paths.values(),
        *compiled.detail_paths,
        *compiled.link_paths,
    ]
    paths = [p for spec in inlined if spec is not None for p in spec[1]]
    shared, hoisted = shared_prefixes(paths + [p for s in as_code.values() for p in spec_paths(s)])
    code = [
        "def one(alert, body, ctx):",
        "    if type(alert) is not dict:",
        "        raise MappingFailure('mapping', "
        "f'an alert is an object, not {type(alert).__name__}')",
        *hoisted,
    ]
    if "message_type" in as_code:
        at = ("fields", "message_type")
        code += spec_code(as_code["message_type"], "message_type", shared, ns, at) or []
    else:
        code.append("    message_type = g_message_type(alert, body)")
    code += [
        "    if message_type not in MESSAGE_TYPES:",
        "        raise MappingFailure('mapping', f'message type {message_type!r} is not one')",
    ]
    if "entity_id" in as_code:
        at = ("fields", "entity_id")
        code += spec_code(as_code["entity_id"], "entity_id", shared, ns, at) or []
    else:
        code.append("    entity_id = g_entity_id(alert, body)")
    code += [
        "    if type(entity_id) is not str or not entity_id"
        f" or len(entity_id) > {ENTITY_ID_LIMIT}:",
        f"        entity_id = _text(entity_id, {ENTITY_ID_LIMIT}) or no_entity_id(ctx)",
    ]
    for name in OPTIONAL:
        get = getattr(compiled, name)
        path = compiled.field_paths.get(name)
        if get is None:
            code.append(f"    raw_{name} = None")
        elif name in compiled.field_values:  # the value itself, bound once: no call
            ns[f"c_{name}"] = compiled.field_values[name]
            code.append(f"    raw_{name} = c_{name}")
        elif path is not None:
            code += _inline(path, shared, f"raw_{name}")
        elif name in as_code:
            at = ("fields", FIELD_OF[name])
            code += spec_code(as_code[name], f"raw_{name}", shared, ns, at) or []
        else:
            ns[f"g_{name}"] = get
            code.append(f"    raw_{name} = g_{name}(alert, body)")
    code += [
        f"    if type(raw_display) is str and raw_display and len(raw_display) <= {FIELD_LIMIT}:",
        "        display = raw_display",
        "    else:",
        f"        display = _text(raw_display, {FIELD_LIMIT})",
        f"    if type(raw_state) is str and len(raw_state) <= {STATE_MESSAGE_LIMIT}:",
        "        state = raw_state",
        "    else:",
        f"        state = _text(raw_state, {STATE_MESSAGE_LIMIT}) or ''",
    ]
    for name in ("tool", "hostname"):
        code += [
            f"    {name} = raw_{name}",
            f"    if {name} is not None and (type({name}) is not str or not {name}"
            f" or len({name}) > {FIELD_LIMIT}):",
            f"        {name} = _text({name}, {FIELD_LIMIT})",
        ]
    code += ["    details = {}", "    annotations = []"]
    if compiled.rest_except is not None or compiled.key_prefix is not None:
        code += _rest_and_keyed(compiled, ns)
    for n, (name, root, key, get) in enumerate(compiled.details):
        path = compiled.detail_paths[n]
        code += (
            _inline(path, shared)
            if path is not None
            else [f"    value = {_read(f'd{n}', root, key, get, ns)}"]
        )
        code += [
            "    if value is not None:",
            f"        details[{name!r}] = value",
        ]
    for n, (kind, title, root, key, get, many) in enumerate(compiled.annotations):
        if many is not None:
            ns[f"m{n}"] = many
            code += [f"    annotations += m{n}(alert, body)"]
            continue
        path = compiled.link_paths[n]
        code += (
            _inline(path, shared)
            if path is not None
            else [f"    value = {_read(f'a{n}', root, key, get, ns)}"]
        )
        code += [
            "    if type(value) is str and value:",
            f"        annotations.append(Annotation({kind!r}, {title!r}, value))",
        ]
    if compiled.note_truncated:
        code += [
            f"    if (type(raw_state) is str and len(raw_state) > {STATE_MESSAGE_LIMIT})"
            f" or (type(raw_display) is str and len(raw_display) > {FIELD_LIMIT}):",
            "        note_cut(raw_state, raw_display, details)",
        ]
    code += [
        "    return AlertDraft(",  # positional, in field order: keywords cost ~0.3 µs more
        "        message_type,",
        "        entity_id,",
        "        display or entity_id,",  # entity_display_name
        "        state,",  # state_message
        "        tool,",  # monitoring_tool
        "        hostname,",
        "        raw_event_time"  # event_time
        " if type(raw_event_time) is int and raw_event_time > 0 else None,",
        "        tuple(annotations),",
        "        details,",
        "        bool(raw_is_test),",  # is_test
        "        None if raw_event_id is None or raw_event_id == ''"  # source_event_id
        " else as_text(raw_event_id),",
        "    )",
    ]
    exec(compile("\n".join(code), f"<mapping {compiled.name}>", "exec"), ns)
    one: OneAlert = ns["one"]
    return one
