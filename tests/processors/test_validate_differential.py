"""jsonschema-rs (hot path) against jsonschema (the reference): same verdict on every sample and
on generated variants; and the JSON path we report is one jsonschema reports too."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.validate import json_path, validate
from schemas.registry import load_sources
from tests.processors.strategies import json_values, samples, variants

SOURCES = sorted(load_sources())
ORACLES = {
    name: jsonschema.Draft202012Validator(info.schema) for name, info in load_sources().items()
}


def agree(source: str, body: Any) -> None:
    ours = validate(source, body)
    reference = list(ORACLES[source].iter_errors(body))
    assert (ours is None) == (not reference), (ours, [e.message for e in reference])
    if ours is not None:
        assert ours.path in {json_path(list(e.absolute_path)) for e in reference}


@pytest.mark.parametrize("source", SOURCES)
def test_samples_are_valid_for_both(source: str) -> None:
    for body in samples(source):
        assert validate(source, body) is None
        agree(source, body)


@pytest.mark.parametrize("source", SOURCES)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_both_agree_on_variants(source: str, data: st.DataObject) -> None:
    agree(source, data.draw(variants(source)))


@pytest.mark.parametrize("source", SOURCES)
@settings(max_examples=200, deadline=None)
@given(body=json_values)
def test_both_agree_on_arbitrary_json(source: str, body: Any) -> None:
    agree(source, body)


def test_json_path_rendering() -> None:
    assert json_path([]) == "$"
    assert json_path(["alert", "agents", 0, "agentId"]) == "$.alert.agents[0].agentId"
    assert json_path(["vo_annotate.u.Run book"]) == "$['vo_annotate.u.Run book']"


def test_an_object_key_that_looks_like_an_index_is_a_key() -> None:
    """jsonschema-rs reports the key "0" of an object as the integer 0."""
    body = {"labels": {"0": 5}, "alerts": [{"x": 1}]}
    assert json_path(["labels", 0], body) == "$.labels['0']"
    assert json_path(["alerts", 0, "x"], body) == "$.alerts[0].x"
    assert json_path(["alerts", 7, "x"], body) == "$.alerts[7].x"
