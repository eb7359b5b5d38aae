"""The mapping-cost bench compares like with like: the hand-written mappings give the same
drafts as the mapping files on every sample and on schema-valid variants."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.handwritten import HANDWRITTEN
from processors.deadletter import MappingFailure
from processors.draft import MapContext
from processors.sources import MAPPINGS
from processors.validate import validate
from schemas.registry import load_sources
from tests.processors.strategies import variants

CTX = MapContext(received_at=1)


@pytest.mark.parametrize("source", sorted(HANDWRITTEN))
def test_same_drafts_on_every_sample(source: str) -> None:
    for path in load_sources()[source].samples:
        body = json.loads(path.read_bytes())
        assert HANDWRITTEN[source](body, CTX) == MAPPINGS[source](body, CTX), path.name


def outcome(mapping: Any, body: Any) -> Any:
    try:
        return mapping(body, CTX)
    except MappingFailure as exc:
        return ("failure", exc.code)


@pytest.mark.parametrize("source", sorted(HANDWRITTEN))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_same_drafts_on_valid_variants(source: str, data: st.DataObject) -> None:
    body = data.draw(variants(source))
    if validate(source, body) is not None:
        return  # the worker never maps a body its schema refuses
    assert outcome(HANDWRITTEN[source], body) == outcome(MAPPINGS[source], body)
