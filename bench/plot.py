"""The PNG of a result document (bench.figures): throughput bars beside their same-run
ceilings (with min-max whiskers), and latency percentiles. Matplotlib's Agg backend: no display
needed. Depends only on the document, so any saved bench-results/*.json can be redrawn:

    python -m bench.plot bench-results/<timestamp>.json docs/benchmarks.png
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes


def _whiskers(spreads: Sequence[Mapping[str, Any]]) -> list[list[float]]:
    """Error-bar lengths below and above each median (0 where unmeasured)."""
    low = [(s["median"] - s["min"]) if s["median"] is not None else 0.0 for s in spreads]
    high = [(s["max"] - s["median"]) if s["median"] is not None else 0.0 for s in spreads]
    return [low, high]


def _value(spread: Mapping[str, Any]) -> float:
    return float(spread["median"]) if spread["median"] is not None else 0.0


def throughput_axes(ax: Axes, figures: Sequence[Mapping[str, Any]]) -> None:
    """Horizontal bars, log scale: the ceilings span three orders of magnitude."""
    speeds = [f for f in figures if f["unit"].endswith("/s") and f["median"] is not None]
    none = {"median": None, "min": None, "max": None}
    labels = [f"{f['section']}: {f['name']}" for f in speeds]
    ys = list(range(len(speeds)))
    height = 0.38
    ax.barh(
        [y - height / 2 for y in ys],
        [_value(f) for f in speeds],
        height,
        xerr=_whiskers(speeds),
        capsize=3,
        label="measured",
        color="#1f77b4",
    )
    ax.barh(
        [y + height / 2 for y in ys],
        [_value(f["ceiling"] or none) for f in speeds],
        height,
        xerr=_whiskers([f["ceiling"] or none for f in speeds]),
        capsize=3,
        label="ceiling (same run)",
        color="#bbbbbb",
    )
    for y, f in zip(ys, speeds, strict=True):
        ratio = f" ({f['ratio']:.2f} of ceiling)" if f["ratio"] is not None else ""
        ax.annotate(
            f"{_value(f):,.0f} {f['unit']}{ratio}",
            (_value(f), y - height / 2),
            textcoords="offset points",
            xytext=(14, -3),
            fontsize=7,
        )
    ax.set_xscale("log")
    ax.set_yticks(ys, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("per second, log scale (median, whiskers min-max)")
    ax.set_title("Throughput vs its ceiling")
    ax.legend(fontsize=8, loc="lower right")


def latency_axes(ax: Axes, latencies: Sequence[Mapping[str, Any]]) -> None:
    labels = [f"{s['section']}\n{s['name']}" for s in latencies]
    xs = list(range(len(latencies)))
    width = 0.27
    for offset, (key, color) in enumerate(
        (("p50_ms", "#2ca02c"), ("p99_ms", "#ff7f0e"), ("max_ms", "#d62728"))
    ):
        spreads = [s[key] for s in latencies]
        ax.bar(
            [x + (offset - 1) * width for x in xs],
            [_value(s) for s in spreads],
            width,
            yerr=_whiskers(spreads),
            capsize=2,
            label=key.removesuffix("_ms"),
            color=color,
        )
    ax.axhline(100, linestyle="--", color="black", linewidth=0.8, label="100 ms (e2e target)")
    ax.set_yscale("log")
    ax.set_xticks(xs, labels, fontsize=7)
    ax.set_ylabel("ms (log scale)")
    ax.set_title("Latency percentiles")
    ax.legend(fontsize=8)


def draw(doc: Mapping[str, Any], path: Path) -> Path:
    """Write the PNG of ``doc`` to ``path`` and return it."""
    latencies = doc["latencies"]
    fig, axes = plt.subplots(1, 2 if latencies else 1, figsize=(16, 6), squeeze=False)
    throughput_axes(axes[0][0], doc["figures"])
    if latencies:
        latency_axes(axes[0][1], latencies)
    machine = doc["machine"]
    fig.suptitle(
        f"alertpipe bench, {doc['profile']} profile, {doc['started_at']}, "
        f"{machine['cores']} cores, {machine['memory_gib']:.0f} GiB (shared machine)",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", type=Path, help="a bench-results/<timestamp>.json")
    parser.add_argument("png", type=Path)
    args = parser.parse_args()
    draw(json.loads(args.result.read_text()), args.png)


if __name__ == "__main__":
    main()
