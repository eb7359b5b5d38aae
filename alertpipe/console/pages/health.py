"""*Health*: per source the webhooks per minute and the last one seen (a source that went quiet
stands out), the dead-letter rate, the worker group's lag, and the ingress's and the worker's
readiness, as small charts of the last hour."""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from alertpipe.console.activity import KEEP_MINUTES
from alertpipe.console.charts import bar_chart
from alertpipe.console.context import console_of
from alertpipe.console.health import EVERY_S

SHOWN_SAMPLES = 60
QUIET_AFTER_MS = 15 * 60_000  # a source with keys that sent nothing for this long is "quiet"


@dataclass(frozen=True)
class SourceHealth:
    name: str
    keys: int  # active integration keys
    last_hour: int
    last_seen: int | None
    quiet: bool
    chart: str


def quiet_for(last_seen: int | None, keys: int, now: int) -> bool:
    """Quiet: it has active keys and sent nothing for QUIET_AFTER_MS (or nothing seen)."""
    return keys > 0 and (last_seen is None or now - last_seen > QUIET_AFTER_MS)


async def health_page(request: Request) -> Response:
    console = console_of(request)
    activity = console.view.activity
    now = int(time.time() * 1000)
    activity.forget_before(now)
    active: dict[str, int] = {}
    for key in console.view.keys.table.all():
        if key.active:
            active[key.source] = active.get(key.source, 0) + 1
    names = sorted(set(active) | set(activity.last_seen))
    sources = []
    for name in names:
        counts = activity.per_minute(name, now)
        seen = activity.last_seen.get(name)
        label = f"{name}: webhooks per minute, last {KEEP_MINUTES} minutes"
        sources.append(SourceHealth(name, active.get(name, 0), sum(counts), seen,
                                    quiet_for(seen, active.get(name, 0), now),
                                    bar_chart(counts, label)))  # fmt: skip
    webhooks = sum(activity.per_minute(None, now))
    dead = activity.dead_per_minute(now)
    samples = list(console.health.samples)[-SHOWN_SAMPLES:]
    last = samples[-1] if samples else None
    span = f"last {SHOWN_SAMPLES} samples, {EVERY_S:g} s apart"
    lag_chart = bar_chart(_padded([s.lag or 0 for s in samples]), f"lag (records), {span}")
    ingress_chart = bar_chart(_padded([int(bool(s.ingress.ready)) for s in samples]),
                              f"ingress ready, {span}")  # fmt: skip
    worker_chart = bar_chart(_padded([int(bool(s.worker.ready)) for s in samples]),
                             f"worker ready, {span}")  # fmt: skip
    return console.page(
        request, "health.html", sources=sources, webhooks=webhooks, dead=sum(dead),
        dead_chart=bar_chart(dead, f"dead letters per minute, last {KEEP_MINUTES} minutes"),
        rate=(sum(dead) / webhooks) if webhooks else None, last=last, lag_chart=lag_chart,
        ingress_chart=ingress_chart, worker_chart=worker_chart, minutes=KEEP_MINUTES,
        group=console.group, settings=console.settings, now=now,
    )  # fmt: skip


def _padded(values: list[int]) -> list[int]:
    """Always SHOWN_SAMPLES bars wide, the newest on the right (empty before the first)."""
    return [0] * (SHOWN_SAMPLES - len(values)) + values
