"""The mapping-cost bench compares like with like: the hand-written mappings give the same
drafts as the mapping files on every sample and on schema-valid variants."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.handwritten import HANDWRITTEN
from processors.deadletter import MappingFailure
from processors.draft import MapContext
from processors.validate import schema_set, validate
from tests.processors.strategies import samples, structured, variants

CTX = MapContext(received_at=1, entity_id_header="from-the-ingress")


@pytest.mark.parametrize("source", sorted(HANDWRITTEN))
def test_same_drafts_on_every_sample(source: str) -> None:
    bodies = samples(source)
    assert bodies
    for body in bodies:
        assert HANDWRITTEN[source](body, CTX) == schema_set().mappings[source](body, CTX), body


def outcome(mapping: Any, body: Any) -> Any:
    try:
        return mapping(body, CTX)
    except MappingFailure as exc:
        return ("failure", exc.code)


@pytest.mark.parametrize("source", sorted(HANDWRITTEN))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_same_drafts_on_valid_variants(source: str, data: st.DataObject) -> None:
    body = data.draw(variants(source) | structured(source))
    if validate(source, body) is not None:
        return  # the worker never maps a body its schema refuses
    assert outcome(HANDWRITTEN[source], body) == outcome(schema_set().mappings[source], body)
