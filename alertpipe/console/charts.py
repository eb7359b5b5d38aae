"""Small bar charts as inline SVG, rendered on the server (no JavaScript, no library): a row
of bars scaled to the largest value, with a text alternative for screen readers."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def bar_chart(values: Sequence[int], label: str, width: int = 240, height: int = 40) -> str:
    """``label`` names the chart (``aria-label`` and ``<title>``), e.g. "webhooks per minute,
    last 60 minutes"; the largest value and the total are appended to it."""
    peak = max(values, default=0)
    total = sum(values)
    described = f"{label}: total {total}, peak {peak}"
    n = max(len(values), 1)
    step = width / n
    bars = []
    for i, value in enumerate(values):
        if value <= 0:
            continue
        h = max(1.0, (value / peak) * (height - 2)) if peak else 0.0
        bars.append(
            f'<rect x="{i * step:.2f}" y="{height - h:.2f}" width="{max(step - 1, 1):.2f}" '
            f'height="{h:.2f}"/>'
        )
    return (
        f'<svg class="chart" role="img" aria-label="{escape(described)}" viewBox="0 0 {width} '
        f'{height}" width="{width}" height="{height}" preserveAspectRatio="none">'
        f"<title>{escape(described)}</title>"
        f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" class="axis"/>'
        f"{''.join(bars)}</svg>"
    )
