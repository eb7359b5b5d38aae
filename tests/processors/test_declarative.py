"""The declarative mapping language: value specs, compile-time errors with file and line, and
mapping functions that never raise anything but MappingFailure (a dead letter) at run time."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.deadletter import MappingFailure
from processors.declarative import MAX_ALERTS, compile_mapping
from processors.draft import MapContext
from processors.fieldpath import parse_path
from processors.mapvalues import labels_hash, rfc3339_ms
from processors.pipeline import process_raw
from processors.sources import mappings_for
from processors.valuespec import compile_spec
from schemas.registry import RegistryError, load_sources
from tests.processors.helpers import raw_input
from tests.processors.strategies import json_values, samples, variants
from tests.schemas.test_mapping_files import GOOD, write_folder

CTX = MapContext(received_at=1)


def value(spec: Any, alert: Any, body: Any = None) -> Any:
    return compile_spec(spec, ("fields", "x"))(alert, alert if body is None else body)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a", (False, ("a",))),
        ("a.b-c", (False, ("a", "b-c"))),
        ("alerts[2].status", (False, ("alerts", 2, "status"))),
        ("$.externalURL", (True, ("externalURL",))),
        ("$", (True, ())),
        ('annotations["runbook url"]', (False, ("annotations", "runbook url"))),
        ("['vo_annotate.u.Graph']", (False, ("vo_annotate.u.Graph",))),
    ],
)
def test_field_paths(text: str, expected: tuple[bool, tuple[Any, ...]]) -> None:
    assert parse_path(text) == expected


@pytest.mark.parametrize("text", ["", "a..b", "a[x]", "$a", "a.", "a[1", "1a"])
def test_bad_field_paths(text: str) -> None:
    with pytest.raises(ValueError, match="field path"):
        parse_path(text)


ALERT = {
    "status": "firing",
    "labels": {"alertname": "Down", "severity": " Warning ", "instance": "db1"},
    "list": [{"x": 1}, {"x": 2}],
    "n": 0,
    "empty": "",
}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("labels.alertname", "Down"),
        ("list[1].x", 2),
        ("list[5].x", None),
        ("labels.alertname.deeper", None),
        ({"value": {"fixed": [1]}}, {"fixed": [1]}),
        ({"template": "{labels.alertname} on {labels.instance}"}, "Down on db1"),
        ({"template": "{labels.alertname} on {labels.nothing}"}, None),
        ({"template": "{{literal}} {n}"}, "{literal} 0"),
        ({"first": ["empty", "labels.nothing", "labels.instance"]}, "db1"),
        ({"join": ["labels.alertname", "empty", "labels.instance"], "sep": "/"}, "Down/db1"),
        ({"join": ["empty", "labels.nothing"]}, None),
        ({"path": "labels.severity", "filters": ["strip", "lower"]}, "warning"),
        ({"path": "labels.severity", "filters": ["strip", "upper"], "map": {"WARNING": 2}}, 2),
        ({"path": "labels.severity", "map": {"x": 1}, "default": "other"}, "other"),
        ({"path": "n", "map": {0: "zero"}}, "zero"),
        ({"path": "labels.nothing", "default": 5}, 5),
        ({"switch": "status", "cases": {"firing": "labels.alertname"}}, "Down"),
        ({"switch": "status", "cases": {"resolved": "n"}, "default": {"value": "d"}}, "d"),
        ({"switch": "status", "cases": {"resolved": "n"}}, None),
        ({"switch": "status", "cases": {"firing": {"value": 1}}, "default": {"value": 2}}, 1),
        ({"switch": "n", "cases": {"1": {"value": 1}}, "default": {"value": 2}}, 2),
        ({"switch": "nothing", "cases": {"1": {"value": 1}}, "default": {"value": 2}}, 2),
        ({"switch": "n", "cases": {"0": {"value": "zero"}}}, "zero"),
        ({"template": "{labels|labels_hash}"}, labels_hash(ALERT["labels"])),
    ],
)
def test_value_specs(spec: Any, expected: Any) -> None:
    assert value(spec, ALERT) == expected


def test_root_paths_read_the_body_not_the_alert() -> None:
    body = {"externalURL": "http://am", "alerts": [ALERT]}
    assert value("$.externalURL", ALERT, body) == "http://am"
    assert value("$.alerts[0].status", ALERT, body) == "firing"
    assert value("externalURL", ALERT, body) is None


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2025-03-17T19:40:12.345678901Z", 1_742_240_412_345),
        ("2025-03-17T20:40:12+01:00", 1_742_240_412_000),
        ("2025-03-17T19:40:12", 1_742_240_412_000),  # no offset: UTC
        ("0001-01-01T00:00:00Z", None),  # Go's zero time: no time
        ("yesterday", None),
        (1742240412, None),
    ],
)
def test_rfc3339(text: Any, ms: int | None) -> None:
    assert rfc3339_ms(text) == ms


def test_time_formats() -> None:
    assert value({"path": "t", "time": "epoch"}, {"t": "1742240412"}) == 1_742_240_412_000
    assert value({"path": "t", "time": "utc_text"}, {"t": "2025-03-17 19:40:12"}) == (
        1_742_240_412_000
    )
    assert value({"path": "t", "time": "%d/%m/%Y %H:%M"}, {"t": "17/03/2025 19:40"}) == (
        1_742_240_400_000
    )
    assert value({"path": "t", "time": "%d/%m/%Y"}, {"t": "soon"}) is None


def test_labels_hash_ignores_key_order() -> None:
    assert labels_hash({"a": "1", "b": "2"}) == labels_hash({"b": "2", "a": "1"})
    assert labels_hash({"a": "1"}) != labels_hash({"a": "2"})
    assert len(labels_hash({})) == 16


def folder_mapping(tmp_path: Path, fields: str, extra: str = "") -> Any:
    text = (
        GOOD.replace("fields:\n  message_type: {value: CRITICAL}\n  entity_id: id\n", fields)
        + extra
    )
    write_folder(tmp_path, mapping=text)
    return load_sources(tmp_path)


@pytest.mark.parametrize(
    ("fields", "line", "what"),
    [
        (
            "fields:\n  message_type: {value: CRITICL}\n  entity_id: id\n",
            5,
            "fields.message_type: 'CRITICL' is not a message type",
        ),
        (
            "fields:\n  message_type: {value: INFO}\n  entity_id: id\n  hostname: a..b\n",
            7,
            "fields.hostname: bad field path 'a..b'",
        ),
        (
            "fields:\n  message_type: {value: INFO}\n  entity_id:\n    path: id\n"
            "    filters: [shout]\n",
            8,
            "fields.entity_id.filters: filters are a list of",
        ),
        (
            "fields:\n  message_type: {value: INFO}\n  entity_id: {path: id, value: x}\n",
            6,
            "fields.entity_id: a value spec has exactly one of",
        ),
        (
            "fields:\n  message_type: {value: INFO}\n  entity_id: {path: id, colour: red}\n",
            6,
            "fields.entity_id.colour: unknown key 'colour'",
        ),
        (
            "fields:\n  message_type: {value: INFO}\n  entity_id: {template: 'a {b'}\n",
            6,
            "fields.entity_id.template: unbalanced '{'",
        ),
        (
            "fields:\n  message_type: {value: INFO}\n  entity_id: id\n"
            "  event_time: {path: t, time: someday}\n",
            7,
            "fields.event_time.time: time is one of",
        ),
        (
            "fields:\n  message_type:\n    switch: s\n    cases:\n      a: {value: INFO}\n"
            "    default: {value: LOUD}\n  entity_id: id\n",
            5,
            "'LOUD' is not a message type",
        ),
    ],
)
def test_a_spec_that_cannot_compile_names_file_line_and_what(
    tmp_path: Path, fields: str, line: int, what: str
) -> None:
    sources = folder_mapping(tmp_path, fields)
    with pytest.raises(RegistryError) as caught:
        mappings_for(sources)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'example' / 'mapping.yaml'}:{line}: "), message
    assert what in message, message


def test_one_alert_per_body_with_an_event_id_for_redeliveries(tmp_path: Path) -> None:
    fields = (
        "fields:\n  message_type: {path: level, map: {bad: CRITICAL, ok: RECOVERY}}\n"
        "  entity_id: {template: 'example:{id}'}\n  event_id: event\n"
        "  event_time: {path: at, time: epoch}\n  is_test: test\n"
    )
    extra = "details:\n  raw_level: level\n  nothing: missing\n"
    [mapping] = mappings_for(folder_mapping(tmp_path, fields, extra)).values()
    [draft] = mapping({"id": 7, "level": "bad", "event": "e-1", "at": 1742240412}, CTX)
    assert (draft.message_type, draft.entity_id, draft.entity_display_name) == (
        "CRITICAL",
        "example:7",
        "example:7",
    )
    assert (draft.source_event_id, draft.event_time, draft.is_test) == ("e-1", 1742240412000, False)
    assert draft.details == {"raw_level": "bad"}
    assert draft.state_message == ""
    with pytest.raises(MappingFailure, match="message type None is not one"):
        mapping({"id": 7, "level": "meh"}, CTX)
    with pytest.raises(MappingFailure, match="no entity id"):
        mapping({"level": "ok"}, CTX)


def alert_list_mapping() -> Any:
    info = load_sources()["alertmanager"]
    assert info.mapping is not None
    return compile_mapping(info.mapping)


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ({"alerts": []}, "no alerts at alerts"),
        ({"alerts": {"a": 1}}, "no alerts at alerts"),
        ({}, "no alerts at alerts"),
        ({"alerts": [1]}, "an alert is an object, not int"),
        ({"alerts": [{"status": "firing"}] * (MAX_ALERTS + 1)}, "alerts in one body"),
    ],
)
def test_alerts_not_where_the_file_says_are_a_mapping_failure(body: Any, what: str) -> None:
    with pytest.raises(MappingFailure, match=what):
        alert_list_mapping()(body, CTX)


@pytest.mark.parametrize("source", ["alertmanager", "grafana"])
@settings(max_examples=300, deadline=None)
@given(body=json_values)
def test_declarative_mappings_raise_only_mapping_failures(source: str, body: Any) -> None:
    """Any JSON, schema-valid or not, straight into the compiled mapping."""
    mapping = mappings_for({source: load_sources()[source]})[source]
    for data in (body, {"alerts": [body]}, {"alerts": [{"status": "firing", "labels": body}]}):
        if not isinstance(data, dict):
            continue
        with contextlib.suppress(MappingFailure):
            mapping(data, CTX)


def test_through_the_pipeline_a_bad_alert_is_a_dead_letter_a_bare_one_an_alert() -> None:
    body = json.dumps({"alerts": [{"status": "firing", "labels": {}}]})
    result = process_raw(raw_input("alertmanager", body.encode()), {})
    assert result.dead_letter is None  # the (empty) labels stand in for the fingerprint
    assert [a.entity_id for a in result.alerts] == [f"alertmanager:labels:{labels_hash({})}"]
    result = process_raw(raw_input("alertmanager", b'{"alerts": [7]}'), {})
    assert result.dead_letter is not None
    assert result.dead_letter.code == "schema"


def test_rest_keyed_annotations_truncation_and_the_ingress_entity_id(tmp_path: Path) -> None:
    fields = (
        "fields:\n  message_type: {value: INFO}\n"
        "  entity_id: {path: id, filters: [nonblank]}\n  state_message: text\n"
    )
    extra = (
        "entity_id_from_ingress: true\n"
        "annotations_from_keys: {prefix: 'link.', kinds: {u: url, i: image}}\n"
        "details_rest: {except: [id, text]}\n"
        "details:\n  named: text\n"
        "note_truncated: [state_message]\n"
    )
    [mapping] = mappings_for(folder_mapping(tmp_path, fields, extra)).values()
    body = {
        "id": "  ",
        "b": 1,
        "link.u.Runbook": "https://r",
        "link.x.Other": "kept",
        "link.i.": "https://img",
        "text": "t" * 20_481,
        "a": [2],
    }
    ctx = MapContext(received_at=1, entity_id_header="from-ingress")
    [draft] = mapping(body, ctx)
    assert draft.entity_id == "from-ingress"  # a blank id in the body
    assert [(a.kind, a.title, a.value) for a in draft.annotations] == [
        ("url", "Runbook", "https://r"),
        ("image", "", "https://img"),
    ]
    assert list(draft.details) == ["b", "link.x.Other", "a", "named", "truncated_fields"]
    assert draft.details["truncated_fields"] == ["state_message"]
    assert len(draft.state_message) == 20_480
    with pytest.raises(MappingFailure, match="no entity_id in the body and none from the ingress"):
        mapping({"id": ""}, CTX)


DECLARATIVE = sorted(name for name, info in load_sources().items() if info.mapping is not None)


def outcome(call: Any) -> Any:
    try:
        return call()
    except MappingFailure as exc:
        return ("failure", exc.code, str(exc))


@pytest.mark.parametrize("source", DECLARATIVE)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_the_generated_per_alert_function_is_the_reference_one(
    source: str, data: st.DataObject
) -> None:
    """``processors.alertcode`` generates ``one`` as straight-line code: same drafts, same
    failures, on samples and their variants (schema-valid or not)."""
    info = load_sources()[source]
    assert info.mapping is not None
    compiled: Any = compile_mapping(info.mapping)
    body = data.draw(st.sampled_from(samples(source)) | variants(source))
    alerts = body.get("alerts") if isinstance(body, dict) else None
    items = alerts if isinstance(alerts, list) else [body]
    for item in items:
        ctx = MapContext(received_at=1, entity_id_header=data.draw(st.sampled_from([None, "h"])))
        assert outcome(lambda: compiled.fast_one(item, body, ctx)) == outcome(  # noqa: B023
            lambda: compiled.one(item, body, ctx)  # noqa: B023
        )
