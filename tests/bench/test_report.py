"""The table and the PNG are drawn from a result document alone (no broker, no processes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.figures import figure, latency_set, latency_summary, result_document
from bench.plot import draw
from bench.profiles import FULL, QUICK, parse_sections, with_repeat
from bench.table import markdown, number


def document() -> dict[str, Any]:
    return result_document(
        profile="quick",
        sizes=QUICK.sizes(),
        machine={"cores": 2, "memory_gib": 24.0, "python": "3.11", "loadavg_start": [1.5, 1, 1]},
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:02:00Z",
        figures=[
            figure(
                "ingress",
                "durable",
                "webhooks/s",
                [8000, 9000, 7000],
                ceiling_name="null sink",
                ceiling_runs=[12000, 11000, 13000],
                min_ratio=0.6,
            ),
            figure("ingress", "producer", "records/s", [20000]),
            figure("state", "RSS", "MiB", [110.5], better="lower"),
            figure("worker", "unmeasured", "records/s", []),
        ],
        latencies=[latency_set("e2e", "1000/s", [latency_summary([1.0, 2.0, 150.0])])],
        micro=[
            {
                "source": "generic",
                "body": "critical.json",
                "bytes": 634,
                "validate_us": 0.7,
                "jsonschema_us": 50.0,
                "pipeline_us": 30.0,
                "stage2_new_us": 6.5,
                "stage2_repeat_us": None,
            }
        ],
        details={},
        errors=["worker: did not drain"],
    )


def test_the_table_shows_medians_ranges_ceilings_ratios_and_targets() -> None:
    text = markdown(document())
    assert "**quick profile**" in text
    assert "2 cores, 24 GiB" in text
    assert "| ingress | durable (webhooks/s) | 8,000 (7,000-9,000) | null sink: 12,000 " in text
    assert "| 0.67 | ≥ 0.6 of the ceiling: met |" in text
    assert "| worker | unmeasured (records/s) | n/a |" in text
    assert "| generic | critical.json | 634 | 0.7 | 50.0 | 30.0 | 6.5 | n/a |" in text
    assert "- worker: did not drain" in text


def test_numbers_are_readable() -> None:
    assert number(12345.6, "records/s") == "12,346"
    assert number(3.14159, "ms") == "3.14"
    assert number(None) == "n/a"


def test_the_png_is_drawn_from_the_document(tmp_path: Path) -> None:
    path = draw(document(), tmp_path / "out" / "bench.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_profiles_and_sections() -> None:
    assert QUICK.e2e_rate == FULL.e2e_rate == 1_000
    assert FULL.state_incidents == 1_000_000
    assert with_repeat(QUICK, 2).e2e_repeat == 2
    assert with_repeat(QUICK, 1).worker_repeat == 1
    assert parse_sections("replay, ingress") == ("ingress", "replay")
    assert parse_sections(None)[0] == "micro"
    with pytest.raises(ValueError, match="unknown section"):
        parse_sections("ingres")
