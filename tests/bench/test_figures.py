"""The pure parts of the bench: spreads, percentiles, figures with ceilings and targets."""

from __future__ import annotations

import pytest

from bench.figures import figure, latency_set, latency_summary, percentile, spread


def test_spread_is_the_median_with_min_and_max() -> None:
    assert spread([3, 1, 2]) == {"runs": [3.0, 1.0, 2.0], "median": 2.0, "min": 1.0, "max": 3.0}
    assert spread([1, 2, 3, 10])["median"] == 2.5


def test_an_unmeasured_spread_is_none_not_zero() -> None:
    assert spread([]) == {"runs": [], "median": None, "min": None, "max": None}


def test_percentile_interpolates_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) == 0.0


def test_latency_summary_counts_what_it_summarised() -> None:
    summary = latency_summary([5.0, 1.0, 3.0])
    assert summary == {"count": 3.0, "p50_ms": 3.0, "p99_ms": pytest.approx(4.96), "max_ms": 5.0}


def test_a_speed_figure_carries_its_ceiling_the_ratio_and_its_targets() -> None:
    f = figure(
        "ingress",
        "durable",
        "webhooks/s",
        [600, 700, 650],
        ceiling_name="null sink",
        ceiling_runs=[1000, 1100, 900],
        min_ratio=0.6,
        min_value=10_000,
    )
    assert f["median"] == 650
    assert f["ceiling"]["median"] == 1000
    assert f["ratio"] == pytest.approx(0.65)
    assert [t["met"] for t in f["targets"]] == [True, False]


def test_a_latency_target_is_an_upper_bound() -> None:
    f = figure("e2e", "p99", "ms", [80, 120, 90], better="lower", max_value=100)
    assert f["targets"] == [{"what": "< 100 ms", "met": True}]  # median 90


def test_targets_of_an_unmeasured_figure_are_not_met_or_missed() -> None:
    f = figure("worker", "rate", "records/s", [], ceiling_name="passthrough",
               ceiling_runs=[5.0], min_ratio=0.5)  # fmt: skip
    assert f["ratio"] is None
    assert f["targets"][0]["met"] is None


def test_latency_set_spreads_each_percentile_over_runs() -> None:
    runs = [latency_summary([1.0, 2.0, 3.0]), latency_summary([2.0, 4.0, 6.0])]
    s = latency_set("e2e", "1000/s", runs)
    assert s["p50_ms"]["median"] == 3.0
    assert s["p50_ms"]["min"] == 2.0
    assert s["max_ms"]["max"] == 6.0
    assert s["samples"] == [3, 3]
