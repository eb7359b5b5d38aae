"""Markdown tables of a result document (bench.figures), pure: the same text is printed by
`python -m bench.run` and pasted into docs/benchmarks.md."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def number(value: float | None, unit: str = "") -> str:
    """Thousands separators for large figures, 3 significant-ish digits for small ones."""
    if value is None:
        return "n/a"
    if unit == "ms" or abs(value) < 100:
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:,.0f}"


def spread_cell(spread: Mapping[str, Any], unit: str = "") -> str:
    median = spread.get("median")
    if median is None:
        return "n/a"
    runs = spread.get("runs") or []
    if len(runs) < 2:
        return number(median, unit)
    return f"{number(median, unit)} ({number(spread['min'], unit)}-{number(spread['max'], unit)})"


def targets_cell(targets: list[dict[str, Any]]) -> str:
    marks = {True: "met", False: "MISSED", None: "not measured"}
    return "; ".join(f"{t['what']}: {marks[t['met']]}" for t in targets) or ""


def header(doc: Mapping[str, Any]) -> str:
    machine = doc["machine"]
    sizes = ", ".join(f"{k}={v}" for k, v in doc["sizes"].items())
    load = machine.get("loadavg_start")
    load_text = f", load average at start {load[0]:.2f}" if load else ""
    return (
        f"**{doc['profile']} profile**, {doc['started_at']}: {machine['cores']} cores, "
        f"{machine['memory_gib']:.0f} GiB{load_text} (shared machine: figures are noisy; "
        f"each is the median of repetitions with min-max). Sizes: {sizes}."
    )


def figures_table(doc: Mapping[str, Any]) -> str:
    lines = [
        "| section | figure | median (min-max) | ceiling, same run | ratio | targets |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for f in doc["figures"]:
        ceiling = f["ceiling"]
        ceiling_text = (
            f"{ceiling['name']}: {spread_cell(ceiling, f['unit'])}" if ceiling is not None else ""
        )
        ratio = f"{f['ratio']:.2f}" if f["ratio"] is not None else ""
        name = f"{f['name']} ({f['unit']})"
        lines.append(
            f"| {f['section']} | {name} | {spread_cell(f, f['unit'])} | {ceiling_text} | "
            f"{ratio} | {targets_cell(f['targets'])} |"
        )
    return "\n".join(lines)


def latency_table(doc: Mapping[str, Any]) -> str:
    lines = [
        "| section | latency of | p50 ms | p99 ms | max ms | samples |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for s in doc["latencies"]:
        samples = "/".join(str(n) for n in s["samples"])
        lines.append(
            f"| {s['section']} | {s['name']} | {spread_cell(s['p50_ms'], 'ms')} | "
            f"{spread_cell(s['p99_ms'], 'ms')} | {spread_cell(s['max_ms'], 'ms')} | {samples} |"
        )
    return "\n".join(lines)


def micro_table(doc: Mapping[str, Any]) -> str:
    lines = [
        "| source | body | bytes | validate µs (jsonschema-rs) | jsonschema µs (oracle) | "
        "whole pure stage 1 µs | stage 2 µs, new incident | stage 2 µs, a repeat |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in doc["micro"]:
        new, repeat = row.get("stage2_new_us"), row.get("stage2_repeat_us")
        lines.append(
            f"| {row['source']} | {row['body']} | {row['bytes']} | {row['validate_us']} | "
            f"{row['jsonschema_us']} | {row['pipeline_us']} | "
            f"{'n/a' if new is None else new} | {'n/a' if repeat is None else repeat} |"
        )
    return "\n".join(lines)


def markdown(doc: Mapping[str, Any]) -> str:
    parts = [header(doc), "", figures_table(doc)]
    if doc["latencies"]:
        parts += ["", latency_table(doc)]
    if doc["micro"]:
        parts += ["", micro_table(doc)]
    if doc["errors"]:
        parts += ["", "Errors:", *(f"- {e}" for e in doc["errors"])]
    return "\n".join(parts) + "\n"
