"""Whatever arrives, the pure pipeline answers: alerts or exactly one dead letter, no exception,
and every alert conforms to the published schema."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from processors.pipeline import process_raw
from processors.routing import config_from_json
from tests.processors.helpers import assert_valid_alerts, raw_input
from tests.processors.strategies import json_values, structured, variants

SOURCES = ["thousandeyes", "pingometer", "generic", "unknown-source"]
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "", "text/plain"]
ROUTES = {
    "acme": config_from_json(
        "acme",
        {
            "routes": {"a": ["t"]},
            "default_teams": ["d"],
            "rules": [{"match": {"entity_id": {"regex": "x"}}, "set_routing_key": "a"}],
        },
    )
}


def body_strategy() -> st.SearchStrategy[bytes]:
    as_json = json_values.map(lambda v: json.dumps(v).encode())
    near_valid = (
        st.sampled_from(["thousandeyes", "pingometer", "generic"])
        .flatmap(variants)
        .map(lambda v: json.dumps(v).encode())
    )
    form = st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=4).map(
        lambda d: "&".join(f"{k}={v}" for k, v in d.items()).encode("utf-8", "surrogatepass")
    )
    return st.binary(max_size=200) | as_json | near_valid | form


@settings(max_examples=1500, deadline=None)
@given(
    source=st.sampled_from(["thousandeyes", "pingometer", "generic"]),
    data=st.data(),
    as_form=st.booleans(),
    routing_key=st.sampled_from(["a", "", "$routing_key", "A", "b/c"]),
)
def test_structured_bodies_of_every_source(
    source: str, data: st.DataObject, as_form: bool, routing_key: str
) -> None:
    body = data.draw(structured(source))
    if as_form and source == "pingometer":
        raw, content_type = urlencode(body).encode(), "application/x-www-form-urlencoded"
    else:
        raw, content_type = json.dumps(body).encode(), "application/json"
    result = process_raw(
        raw_input(source, raw, content_type=content_type, routing_key=routing_key), ROUTES
    )
    check(result)


def check(result: Any) -> None:
    assert bool(result.alerts) != (result.dead_letter is not None)
    assert len(result.alerts) == len(result.encoded)
    assert_valid_alerts(result)


@settings(max_examples=1500, deadline=None)
@given(
    source=st.sampled_from(SOURCES),
    content_type=st.sampled_from(CONTENT_TYPES),
    body=body_strategy(),
    routing_key=st.text(max_size=20),
    entity=st.none() | st.text(min_size=1, max_size=20),
)
def test_every_body_yields_alerts_or_one_dead_letter(
    source: str, content_type: str, body: bytes, routing_key: str, entity: str | None
) -> None:
    check(
        process_raw(
            raw_input(
                source, body, content_type=content_type, routing_key=routing_key, entity_id=entity
            ),
            ROUTES,
        )
    )


def test_deep_nesting_and_huge_strings_are_handled() -> None:
    deep = b'{"message_type":"INFO","entity_id":"e","d":' + b"[" * 5000 + b"]" * 5000 + b"}"
    check(process_raw(raw_input("generic", deep), ROUTES))
    nested_ok = b'{"message_type":"INFO","entity_id":"e","d":' + b"[" * 300 + b"]" * 300 + b"}"
    check(process_raw(raw_input("generic", nested_ok), ROUTES))
    huge = b'{"message_type":"INFO","entity_id":"e","state_message":"' + b"x" * 400_000 + b'"}'
    check(process_raw(raw_input("generic", huge), ROUTES))
