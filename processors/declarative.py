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

from processors.deadletter import MappingFailure
from processors.draft import FIELD_LIMIT, STATE_MESSAGE_LIMIT, AlertDraft, MapContext, clip
from processors.mapvalues import (
    Getter,
    SpecError,
    Where,
    as_text,
    compile_path,
    compile_spec,
    map_outputs,
    parse_path,
)
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


class _Compiled:
    """The getters of one mapping file; ``__call__`` maps one body."""

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
        self.annotations = tuple(
            (item["kind"], item["title"], *_reader(item["value"], ("annotations", i, "value")))
            for i, item in enumerate(data.get("annotations") or [])
        )
        for value in map_outputs(fields["message_type"]):
            if value not in MESSAGE_TYPES:
                raise SpecError(
                    ("fields", "message_type"),
                    f"{value!r} is not a message type ({', '.join(sorted(MESSAGE_TYPES))})",
                )

    def __call__(self, body: dict[str, Any], ctx: MapContext) -> list[AlertDraft]:
        if self.alerts is None:
            return [self.one(body, body)]
        items = self.alerts(body, body)
        if type(items) is not list or not items:
            raise MappingFailure("mapping", f"no alerts at {self.alerts_path} (a non-empty list)")
        if len(items) > MAX_ALERTS:
            raise MappingFailure(
                "mapping", f"{len(items)} alerts in one body (at most {MAX_ALERTS})"
            )
        return [self.one(item, body) for item in items]

    def one(self, alert: Any, body: Any) -> AlertDraft:
        if type(alert) is not dict:
            raise MappingFailure("mapping", f"an alert is an object, not {type(alert).__name__}")
        message_type = self.message_type(alert, body)
        if message_type not in MESSAGE_TYPES:
            raise MappingFailure("mapping", f"message type {message_type!r} is not one")
        entity_id = _text(self.entity_id(alert, body), ENTITY_ID_LIMIT)
        if entity_id is None:
            raise MappingFailure("mapping", f"no entity id for a {self.name} alert")
        display = _text(self.display(alert, body), FIELD_LIMIT) if self.display else None
        state = _text(self.state(alert, body), STATE_MESSAGE_LIMIT) if self.state else None
        event_time = self.event_time(alert, body) if self.event_time else None
        event_id = self.event_id(alert, body) if self.event_id else None
        # body is a dict here: the alerts' list was read from it, or it is the alert
        details = {}
        for name, root, key, get in self.details:
            value = (body if root else alert).get(key) if get is None else get(alert, body)
            if value is not None:
                details[name] = value
        annotations = []
        for kind, title, root, key, get in self.annotations:
            value = (body if root else alert).get(key) if get is None else get(alert, body)
            if type(value) is str and value:
                annotations.append(Annotation(kind, title, value))
        return AlertDraft(
            message_type=message_type,
            entity_id=entity_id,
            entity_display_name=display or entity_id,
            state_message=state or "",
            monitoring_tool=_text(self.tool(alert, body), FIELD_LIMIT) if self.tool else None,
            hostname=_text(self.hostname(alert, body), FIELD_LIMIT) if self.hostname else None,
            event_time=event_time if type(event_time) is int and event_time > 0 else None,
            annotations=tuple(annotations),
            details=details,
            is_test=bool(self.is_test(alert, body)) if self.is_test else False,
            source_event_id=None if event_id in (None, "") else as_text(event_id),
        )


def compile_mapping(file: MappingFile) -> DeclarativeMapping:
    """Raises RegistryError ``<file>:<line>: <where>: <what>`` for a spec that cannot work."""
    try:
        return _Compiled(file)
    except SpecError as exc:
        raise RegistryError(str(file.error(exc.where, str(exc)))) from None
