"""Import rules: the ingress loads no stream engine; the worker's pure core (processors/*.py)
loads neither the engine nor prometheus_client (those belong to processors/worker/)."""

import json
import subprocess
import sys
from pathlib import Path

PROCESSORS = Path(__file__).resolve().parents[2] / "processors"
CORE = sorted(
    [f"processors.{p.stem}" for p in PROCESSORS.glob("*.py") if p.stem != "__init__"]
    + [f"processors.sources.{p.stem}" for p in PROCESSORS.glob("sources/*.py")]
)


def loaded_roots(modules: list[str], roots: set[str]) -> list[str]:
    probe = (
        f"import json, sys, importlib; [importlib.import_module(m) for m in {modules!r}]; "
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {roots!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return list(json.loads(result.stdout))


def test_the_ingress_loads_no_stream_engine_nor_aiohttp() -> None:
    engines = {"quixstreams", "confluent_kafka", "faust", "aiohttp"}
    assert loaded_roots(["ingest.app", "ingest.server"], engines) == []


def test_the_pure_core_loads_neither_the_engine_nor_prometheus_client() -> None:
    assert {"processors.pipeline", "processors.incidents"} <= set(CORE)
    assert loaded_roots(CORE, {"quixstreams", "confluent_kafka", "prometheus_client"}) == []
