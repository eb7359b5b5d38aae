"""What a declarative mapping costs per body against the same mapping hand-written
(bench/handwritten.py), the budget being 1.5x; and what it would cost with its field paths
evaluated by an expression library (JSONPath, JMESPath) instead of our compiled paths.

    python -m bench.mapping_cost [--number 20000]

µs per body, best of 5 timeit repeats (the least disturbed one on a shared machine): the
mapping alone, and the whole pure stage 1 (parse, validate, map, route, normalize, encode).
A library absent from the environment gets no row.
"""

from __future__ import annotations

import argparse
import importlib
import json
import timeit
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import processors.declarative as declarative
import processors.fieldpath as fieldpath
import processors.valuespec as valuespec
from bench.handwritten import HANDWRITTEN
from processors.declarative import compile_mapping
from processors.draft import MapContext
from processors.fieldpath import Getter, Where, parse_path
from processors.pipeline import RawInput, process_raw
from processors.validate import SchemaSet
from schemas.raw import RawHeaders
from schemas.registry import load_sources

CTX = MapContext(received_at=1_742_240_600_000, entity_id_header="from-the-ingress")
FIXTURES = Path(__file__).parents[1] / "tests" / "fixtures"


def _jsonpath(root: bool, steps: tuple[str | int, ...]) -> Getter:
    parse = importlib.import_module("jsonpath_ng").parse  # optional: no stubs needed

    text = "$" + "".join(f"[{s}]" if isinstance(s, int) else f"['{s}']" for s in steps)
    expr = parse(text)

    def get(a: Any, b: Any) -> Any:
        found = expr.find(b if root else a)
        return found[0].value if found else None

    return get


def _jmespath(root: bool, steps: tuple[str | int, ...]) -> Getter:
    jmespath = importlib.import_module("jmespath")

    text = "".join(f"[{s}]" if isinstance(s, int) else f'."{s}"' for s in steps).lstrip(".")
    expr = jmespath.compile(text or "@")
    return lambda a, b: expr.search(b if root else a)


LIBRARIES: dict[str, tuple[str, Callable[[bool, tuple[str | int, ...]], Getter]]] = {
    "jsonpath-ng": ("jsonpath_ng", _jsonpath),
    "jmespath": ("jmespath", _jmespath),
}


@contextmanager
def paths_by(build: Callable[[bool, tuple[str | int, ...]], Getter]) -> Iterator[None]:
    """Compile mapping files with field paths evaluated by ``build`` (a library)."""
    original = fieldpath.compile_path

    def compile_path(text: str, where: Where) -> Getter:
        return build(*parse_path(text))

    modules = (valuespec, declarative)  # the modules that call compile_path by name
    for module in modules:
        setattr(module, "compile_path", compile_path)  # noqa: B010
    try:
        yield
    finally:
        for module in modules:
            setattr(module, "compile_path", original)  # noqa: B010


def per_call(fn: Callable[[], Any], number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def raw_for(source: str, body: bytes) -> RawInput:
    headers = RawHeaders(
        source, "bench", "k", "rk", "application/json", CTX.received_at, "r", "", "", "e1"
    )
    return RawInput(body, headers.to_kafka(), "alerts.raw", 0, 1)


def stage_one_us(source: str, mapping: Any, raw: RawInput, number: int) -> float:
    compiled = SchemaSet(load_sources())
    compiled.mappings[source] = mapping
    return per_call(lambda: process_raw(raw, {}, compiled), number)


def rows(number: int) -> list[dict[str, Any]]:
    out = []
    for source, hand in sorted(HANDWRITTEN.items()):
        info = load_sources()[source]
        assert info.mapping is not None
        variants: dict[str, Any] = {"declarative": compile_mapping(info.mapping)}
        for label, (module, build) in LIBRARIES.items():
            try:
                importlib.import_module(module)
            except ImportError:
                continue
            with paths_by(build):
                variants[f"declarative+{label}"] = compile_mapping(info.mapping)
        for path in [*sorted((FIXTURES / source).glob("*.json")), *info.samples]:
            body = path.read_bytes()
            data, raw = json.loads(body), raw_for(source, body)
            base = per_call(lambda: hand(data, CTX), number)  # noqa: B023
            base_stage = stage_one_us(source, hand, raw, number // 4)
            row: dict[str, Any] = {
                "source": source,
                "body": path.name,
                "alerts": len(data.get("alerts") or [data]),
                "handwritten_us": round(base, 2),
                "handwritten_stage1_us": round(base_stage, 1),
            }
            for label, mapping in variants.items():
                assert mapping(data, CTX) == hand(data, CTX), (label, path.name)
                cost = per_call(lambda: mapping(data, CTX), number)  # noqa: B023
                row[f"{label}_us"] = round(cost, 2)
                row[f"{label}_ratio"] = round(cost / base, 2)
                row[f"{label}_stage1_us"] = round(
                    stage_one_us(source, mapping, raw, number // 4), 1
                )
            out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20_000, help="calls per timing")
    args = parser.parse_args()
    for row in rows(args.number):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
