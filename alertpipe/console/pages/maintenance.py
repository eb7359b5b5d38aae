"""*Maintenance*: the active and scheduled windows; start one and end one, as `alertpipe
maintenance start|end` do (``alertpipe.jobs.maintenance``)."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from alertpipe.console.context import checked_form, console_of, until_followed
from alertpipe.jobs.maintenance import (
    end_window,
    plan_window,
    scope_text,
    until_ms,
    window_state,
    windows_shown,
)
from kafkaio.admin import KafkaUnreachable
from processors.maintenance import MaintenanceError
from processors.maintenancestore import publish_window


async def maintenance_page(request: Request, **shown: Any) -> Response:
    console = console_of(request)
    now = int(time.time() * 1000)
    show_all = request.query_params.get("all") == "1"
    windows = windows_shown(console.view.windows.table, now, None, show_all)
    rows = [{"w": w, "state": window_state(w, now), "scope": scope_text(w)} for w in windows]
    return console.page(
        request, "maintenance.html", rows=rows, show_all=show_all,
        sources=sorted(console.sources), **shown,
    )  # fmt: skip


def _given(form: dict[str, str], name: str) -> str | None:
    return form.get(name, "").strip() or None


async def start_action(request: Request) -> Response:
    console = console_of(request)
    form = await checked_form(console, request)
    now = int(time.time() * 1000)
    source = _given(form, "source")
    try:
        if source is not None and source not in console.sources:
            raise MaintenanceError(f"unknown source {source!r}")
        until = until_ms(_given(form, "for"), _given(form, "until"), now)
        window = plan_window(
            form.get("org", "").strip(), now, until, form.get("reason", "").strip(),
            _given(form, "routing_key"), source, _given(form, "entity_id"),
        )  # fmt: skip
        await publish_window(console.kafka, console.kafka_settings.topics.maintenance, window)
    except (MaintenanceError, KafkaUnreachable) as exc:
        return await maintenance_page(request, error=str(exc))
    await until_followed(lambda: window.id in console.view.windows.table.by_id)
    return await maintenance_page(
        request, notice=f"Started {window.id} for {window.org} ({scope_text(window)}): "
        f"it takes effect in 2 s.",
    )  # fmt: skip


async def end_action(request: Request) -> Response:
    console = console_of(request)
    form = await checked_form(console, request)
    try:
        over = await end_window(
            console.kafka, console.kafka_settings.topics.maintenance, form.get("id", ""),
            int(time.time() * 1000),
        )  # fmt: skip
    except (MaintenanceError, KafkaUnreachable) as exc:
        return await maintenance_page(request, error=str(exc))
    return await maintenance_page(
        request, notice=f"Ended {over.id}: alerts from 2 s on are not marked."
    )
