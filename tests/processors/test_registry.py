"""Nothing is discovered silently: schemas, mappings and samples must match one to one."""

from processors.sources import PYTHON_MAPPINGS
from processors.validate import schema_set
from schemas.registry import load_sources
from tests.processors.helpers import FIXTURES


def test_every_schema_has_a_mapping_and_every_mapping_a_schema() -> None:
    assert set(load_sources()) == set(schema_set().mappings)


def test_python_mappings_are_only_for_sources_without_a_mapping_file() -> None:
    sources = load_sources()
    assert set(PYTHON_MAPPINGS) <= set(sources)
    for name in PYTHON_MAPPINGS:
        assert sources[name].mapping is None, f"{name}: a mapping file and a Python mapping"


def test_every_source_has_sample_bodies() -> None:
    for source, info in load_sources().items():
        samples = [p for p in (FIXTURES / source).glob("*") if p.is_file()] + list(info.samples)
        assert samples, f"{source}: no sample body (tests/fixtures/{source}/ or samples/)"
