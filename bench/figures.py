"""The result vocabulary of `python -m bench.run`, as plain JSON-ready dicts (pure).

A *spread* is the median of a figure's repetitions with min and max. A *figure* is one speed
or duration with its spread, and, for a speed, the ceiling measured in the same run (its own
spread) and the ratio of the medians. A *latency set* holds p50, p99 and max (ms), each a
spread over repetitions. Targets come from issue 7; they are checked, never assumed.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any, Literal

SCHEMA_VERSION = 1
Better = Literal["higher", "lower"]


def spread(runs: Sequence[float]) -> dict[str, Any]:
    """Median, min and max of the repetitions (and the repetitions themselves); an empty
    sequence gives None for all three (a figure that could not be measured)."""
    values = [float(v) for v in runs]
    if not values:
        return {"runs": [], "median": None, "min": None, "max": None}
    return {
        "runs": values,
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks; 0.0 when
    there are no values (callers report the count next to it)."""
    if not sorted_values:
        return 0.0
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    rank = (len(sorted_values) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return float(sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low))


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float]:
    ordered = sorted(latencies_ms)
    return {
        "count": float(len(ordered)),
        "p50_ms": percentile(ordered, 50),
        "p99_ms": percentile(ordered, 99),
        "max_ms": float(ordered[-1]) if ordered else 0.0,
    }


def target(what: str, met: bool | None) -> dict[str, Any]:
    """One target of the issue and whether this run met it (None: not measured)."""
    return {"what": what, "met": met}


def figure(
    section: str,
    name: str,
    unit: str,
    runs: Sequence[float],
    *,
    ceiling_name: str | None = None,
    ceiling_runs: Sequence[float] = (),
    better: Better = "higher",
    min_ratio: float | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    note: str = "",
) -> dict[str, Any]:
    """A figure with its ceiling (if any), the ratio of medians and its targets checked."""
    value = spread(runs)
    out: dict[str, Any] = {
        "section": section,
        "name": name,
        "unit": unit,
        "better": better,
        **value,
        "ceiling": None,
        "ratio": None,
        "targets": [],
        "note": note,
    }
    median = value["median"]
    if ceiling_name is not None:
        ceiling = {"name": ceiling_name, **spread(ceiling_runs)}
        out["ceiling"] = ceiling
        if median is not None and ceiling["median"]:
            out["ratio"] = median / ceiling["median"]
    if min_ratio is not None:
        ratio = out["ratio"]
        out["targets"].append(
            target(f"≥ {min_ratio:g} of the ceiling", None if ratio is None else ratio >= min_ratio)
        )
    if min_value is not None:
        met = None if median is None else median >= min_value
        out["targets"].append(target(f"≥ {min_value:,.0f} {unit}", met))
    if max_value is not None:
        met = None if median is None else median < max_value
        out["targets"].append(target(f"< {max_value:g} {unit}", met))
    return out


def latency_set(
    section: str, name: str, summaries: Sequence[dict[str, float]], note: str = ""
) -> dict[str, Any]:
    """p50, p99 and max over repetitions, each a spread, from per-run ``latency_summary``s."""
    return {
        "section": section,
        "name": name,
        "p50_ms": spread([s["p50_ms"] for s in summaries]),
        "p99_ms": spread([s["p99_ms"] for s in summaries]),
        "max_ms": spread([s["max_ms"] for s in summaries]),
        "samples": [int(s["count"]) for s in summaries],
        "note": note,
    }


def result_document(
    *,
    profile: str,
    sizes: dict[str, Any],
    machine: dict[str, Any],
    started_at: str,
    finished_at: str,
    figures: Sequence[dict[str, Any]],
    latencies: Sequence[dict[str, Any]],
    micro: Sequence[dict[str, Any]],
    details: dict[str, Any],
    errors: Sequence[str],
) -> dict[str, Any]:
    """The JSON written to bench-results/<timestamp>.json."""
    return {
        "schema_version": SCHEMA_VERSION,
        "profile": profile,
        "sizes": sizes,
        "machine": machine,
        "started_at": started_at,
        "finished_at": finished_at,
        "figures": list(figures),
        "latencies": list(latencies),
        "micro": list(micro),
        "details": details,
        "errors": list(errors),
    }
