"""A declarative source's mapping (``mapping.yaml``) compiled into a mapping function, the
same shape as a Python one: ``(body, MapContext) -> list[AlertDraft]``. Pure.

Compiled once at start (``processors.sources.mappings_for``); a spec that cannot be compiled
raises RegistryError as ``<file>:<line>: <where>: <what>``. At run time the function raises
only MappingFailure (a dead letter with code ``mapping``) for a body it cannot map: no alerts
where the file says they are, no entity id, a message type that is not one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

from processors.alertcode import FIELD_OF, generate
from processors.annotationspec import compile_annotations, needs_many
from processors.deadletter import MappingFailure
from processors.draft import FIELD_LIMIT, STATE_MESSAGE_LIMIT, AlertDraft, MapContext, clip
from processors.fieldpath import (
    Getter,
    KeyPath,
    SpecError,
    Where,
    compile_path,
    key_path,
    parse_path,
)
from processors.mapvalues import as_text
from processors.valuespec import compile_spec, map_outputs
from schemas.mappingfile import MappingFile
from schemas.normalized import Annotation, MessageType
from schemas.registry import RegistryError

MESSAGE_TYPES: frozenset[str] = frozenset(get_args(MessageType))
ENTITY_ID_LIMIT = 512
# Alerts mapped from one body at most: a body past it is dead-lettered, not half mapped.
MAX_ALERTS = 1_000
DeclarativeMapping = Callable[[dict[str, Any], MapContext], list[AlertDraft]]


def _text(value: Any, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if type(value) is str and len(value) <= limit:
        return value
    return clip(as_text(value), limit)


# How a detail or a link value is read: (from the body?, key, None) for a one-key field path,
# read inline with no call per value; (False, "", getter) otherwise.
Read = tuple[bool, str, Getter | None]


def _reader(spec: Any, where: Where) -> Read:
    if isinstance(spec, str):
        try:
            root, steps = parse_path(spec)
        except ValueError:
            pass  # compile_spec names the error
        else:
            if len(steps) == 1 and isinstance(steps[0], str):
                return (root, steps[0], None)
    return (False, "", compile_spec(spec, where))


# A field path of object keys only, as (from the body?, keys): what the generated per-alert
# code reads inline, one ``dict.get`` per key (``processors.alertcode``). ``Inline``: a value
# spec made of those alone, as (a ``first``?, its paths): a path, or the first of paths.
Inline = tuple[bool, tuple[KeyPath, ...]]


def inline(spec: Any) -> Inline | None:
    """``spec`` as a path of keys or ``{first: [paths of keys]}`` alone; None otherwise."""
    path = key_path(spec)
    if path is not None:
        return (False, (path,))
    if (
        not isinstance(spec, dict)
        or spec.keys() != {"first"}
        or not isinstance(spec["first"], list)
    ):
        return None
    paths = [key_path(option) for option in spec["first"]]
    if not paths or any(p is None for p in paths):
        return None
    return (True, tuple(p for p in paths if p is not None))


class _Compiled:
    """The getters of one mapping file; ``__call__`` maps one body."""

    __slots__ = (
        "alerts",
        "alerts_path",
        "annotations",
        "detail_paths",
        "details",
        "display",
        "entity_id",
        "event_id",
        "event_time",
        "fast_one",
        "field_paths",
        "field_specs",
        "field_values",
        "from_ingress",
        "hostname",
        "ingress_prefix",
        "is_test",
        "key_kinds",
        "key_prefix",
        "link_paths",
        "message_type",
        "name",
        "note_truncated",
        "rest_except",
        "state",
        "tool",
    )

    def __init__(self, file: MappingFile) -> None:
        data, fields = file.data, file.data["fields"]
        self.name = file.path.parent.name
        self.alerts: Getter | None = None
        if "alerts" in data:
            self.alerts = compile_path(data["alerts"], ("alerts",))
            self.alerts_path = data["alerts"]
        get = {name: compile_spec(spec, ("fields", name)) for name, spec in fields.items()}
        self.message_type = get["message_type"]
        self.entity_id = get["entity_id"]
        self.display = get.get("entity_display_name")
        self.state = get.get("state_message")
        self.tool = get.get("monitoring_tool")
        self.hostname = get.get("hostname")
        self.event_time = get.get("event_time")
        self.event_id = get.get("event_id")
        self.is_test = get.get("is_test")
        self.details = tuple(
            (str(name), *_reader(spec, ("details", str(name))))
            for name, spec in (data.get("details") or {}).items()
        )
        self.detail_paths = tuple(inline(spec) for spec in (data.get("details") or {}).values())
        # the specs of the message type, entity id and optional fields, by attribute name
        self.field_specs = {
            "message_type": fields["message_type"],
            "entity_id": fields["entity_id"],
            **{name: fields[field] for name, field in FIELD_OF.items() if field in fields},
        }
        # the optional fields of a fixed value ({value: ...} alone): a constant per alert
        self.field_values = {
            name: fields[field]["value"]
            for name, field in FIELD_OF.items()
            if isinstance(fields.get(field), dict) and fields[field].keys() == {"value"}
        }
        self.field_paths = {
            name: inline(fields[field]) for name, field in FIELD_OF.items() if field in fields
        }
        # (kind, title, root, key, read, None) for one field with a fixed title, or
        # ("", "", False, "", None, many) for a list or a title read from the body
        self.annotations = tuple(
            ("", "", False, "", None, compile_annotations(item, ("annotations", i)))
            if needs_many(item)
            else (
                item["kind"],
                item["title"],
                *_reader(item["value"], ("annotations", i, "value")),
                None,
            )
            for i, item in enumerate(data.get("annotations") or [])
        )
        self.link_paths = tuple(
            None if needs_many(item) else inline(item["value"])
            for item in data.get("annotations") or []
        )
        from_ingress = data.get("entity_id_from_ingress")
        self.from_ingress = bool(from_ingress)
        # text before the ingress's id, as the entity_id spec has before a body's
        self.ingress_prefix = from_ingress["prefix"] if isinstance(from_ingress, dict) else ""
        rest = data.get("details_rest")
        self.rest_except = frozenset(rest["except"]) if rest is not None else None
        keyed = data.get("annotations_from_keys")
        self.key_prefix: str | None = keyed["prefix"] if keyed is not None else None
        self.key_kinds: dict[str, str] = dict(keyed["kinds"]) if keyed is not None else {}
        self.note_truncated = tuple(data.get("note_truncated") or ())
        for value in map_outputs(fields["message_type"]):
            if value not in MESSAGE_TYPES:
                raise SpecError(
                    ("fields", "message_type"),
                    f"{value!r} is not a message type ({', '.join(sorted(MESSAGE_TYPES))})",
                )
        self.fast_one = generate(self, _text)

    def __call__(self, body: dict[str, Any], ctx: MapContext) -> list[AlertDraft]:
        if self.alerts is None:
            return [self.fast_one(body, body, ctx)]
        items = self.alerts(body, body)
        if type(items) is not list or not items:
            raise MappingFailure("mapping", f"no alerts at {self.alerts_path} (a non-empty list)")
        if len(items) > MAX_ALERTS:
            raise MappingFailure(
                "mapping", f"{len(items)} alerts in one body (at most {MAX_ALERTS})"
            )
        one = self.fast_one
        return [one(item, body, ctx) for item in items]

    def one(self, alert: Any, body: Any, ctx: MapContext) -> AlertDraft:
        """One alert. The reference for ``fast_one`` (``processors.alertcode``), the same
        steps generated as straight-line code, which ``__call__`` uses."""
        if type(alert) is not dict:
            raise MappingFailure("mapping", f"an alert is an object, not {type(alert).__name__}")
        message_type = self.message_type(alert, body)
        if message_type not in MESSAGE_TYPES:
            raise MappingFailure("mapping", f"message type {message_type!r} is not one")
        entity_id = self.entity_id(alert, body)
        if type(entity_id) is not str or not entity_id or len(entity_id) > ENTITY_ID_LIMIT:
            entity_id = _text(entity_id, ENTITY_ID_LIMIT) or self.no_entity_id(ctx)
        get = self.display
        raw_display = get(alert, body) if get is not None else None
        if type(raw_display) is str and raw_display and len(raw_display) <= FIELD_LIMIT:
            display: str | None = raw_display
        else:
            display = _text(raw_display, FIELD_LIMIT)
        get = self.state
        raw_state = get(alert, body) if get is not None else None
        if type(raw_state) is str and len(raw_state) <= STATE_MESSAGE_LIMIT:
            state = raw_state
        else:
            state = _text(raw_state, STATE_MESSAGE_LIMIT) or ""
        get = self.tool
        tool = get(alert, body) if get is not None else None
        if tool is not None and (type(tool) is not str or not tool or len(tool) > FIELD_LIMIT):
            tool = _text(tool, FIELD_LIMIT)
        get = self.hostname
        hostname = get(alert, body) if get is not None else None
        if hostname is not None and (
            type(hostname) is not str or not hostname or len(hostname) > FIELD_LIMIT
        ):
            hostname = _text(hostname, FIELD_LIMIT)
        get = self.event_time
        event_time = get(alert, body) if get is not None else None
        get = self.event_id
        event_id = get(alert, body) if get is not None else None
        details: dict[str, Any] = {}
        annotations: list[Annotation] = []
        if self.rest_except is not None or self.key_prefix is not None:
            self.rest_and_keyed(alert, details, annotations)
        # body is a dict here: the alerts' list was read from it, or it is the alert
        for name, root, key, read in self.details:
            value = (body if root else alert).get(key) if read is None else read(alert, body)
            if value is not None:
                details[name] = value
        for kind, title, root, key, read, many in self.annotations:
            if many is not None:
                annotations += many(alert, body)
                continue
            value = (body if root else alert).get(key) if read is None else read(alert, body)
            if type(value) is str and value:
                annotations.append(Annotation(kind, title, value))  # type: ignore[arg-type]
        if self.note_truncated and (
            (type(raw_state) is str and len(raw_state) > STATE_MESSAGE_LIMIT)
            or (type(raw_display) is str and len(raw_display) > FIELD_LIMIT)
        ):
            self.note_cut(raw_state, raw_display, details)
        get = self.is_test
        return AlertDraft(
            message_type=message_type,
            entity_id=entity_id,
            entity_display_name=display or entity_id,
            state_message=state,
            monitoring_tool=tool,
            hostname=hostname,
            event_time=event_time if type(event_time) is int and event_time > 0 else None,
            annotations=tuple(annotations),
            details=details,
            is_test=bool(get(alert, body)) if get is not None else False,
            source_event_id=None if event_id is None or event_id == "" else as_text(event_id),
        )

    def no_entity_id(self, ctx: MapContext) -> str:
        """The ingress's entity id when the file allows it; else this alert is a failure."""
        if not self.from_ingress:
            raise MappingFailure("mapping", f"no entity id for a {self.name} alert")
        if not ctx.entity_id_header:
            raise MappingFailure("mapping", "no entity_id in the body and none from the ingress")
        return self.ingress_prefix + ctx.entity_id_header

    def note_cut(self, raw_state: Any, raw_display: Any, details: dict[str, Any]) -> None:
        cut = [
            name
            for name, value, limit in (
                ("state_message", raw_state, STATE_MESSAGE_LIMIT),
                ("entity_display_name", raw_display, FIELD_LIMIT),
            )
            if name in self.note_truncated and type(value) is str and len(value) > limit
        ]
        if cut:
            details["truncated_fields"] = sorted(cut, key=self.note_truncated.index)

    def rest_and_keyed(
        self, alert: dict[str, Any], details: dict[str, Any], annotations: list[Annotation]
    ) -> None:
        """Keys that name annotations (``<prefix><kind>.<title>``), and every key not mapped
        otherwise into details, both in body order."""
        prefix, kinds, skip = self.key_prefix, self.key_kinds, self.rest_except
        for key, value in alert.items():
            if prefix is not None and key.startswith(prefix):
                letter, dot, title = key[len(prefix) :].partition(".")
                kind = kinds.get(letter) if dot else None
                if kind is not None:
                    # str(): what the VictorOps REST mapping always did for a non-text value
                    text = value if type(value) is str else str(value)
                    annotations.append(Annotation(kind, title, text))  # type: ignore[arg-type]
                    continue
            if skip is not None and key not in skip:
                details[key] = value


def compile_mapping(file: MappingFile) -> DeclarativeMapping:
    """Raises RegistryError ``<file>:<line>: <where>: <what>`` for a spec that cannot work."""
    try:
        return _Compiled(file)
    except SpecError as exc:
        raise RegistryError(str(file.error(exc.where, str(exc)))) from None
