"""Nothing is discovered silently: schemas, mappings and samples must match one to one."""

from processors.sources import MAPPINGS
from schemas.registry import load_sources
from tests.processors.helpers import FIXTURES


def test_every_schema_has_a_mapping_and_every_mapping_a_schema() -> None:
    assert set(load_sources()) == set(MAPPINGS)


def test_every_source_has_sample_bodies() -> None:
    for source in load_sources():
        samples = [p for p in (FIXTURES / source).glob("*") if p.is_file()]
        assert samples, f"tests/fixtures/{source}/ has no sample body"
