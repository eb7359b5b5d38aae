"""*Incidents*: those open and acknowledged now (as the worker's changelog holds them), with
filters, each with its events, suppressed count and the alert that opened it; **Acknowledge**
and **Resolve** write an operator's event exactly as `alertpipe incidents ack|resolve --yes`
does, for the worker to decide like any alert."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from alertpipe.console.context import PAGE_SIZE, checked_form, console_of
from alertpipe.console.incidentview import IncidentQuery, incident_rows, teams_of
from alertpipe.jobs.operator_events import Action, operator_event, preview, record_event
from kafkaio.admin import KafkaUnreachable
from schemas.normalized import ref_text

STATUSES = ("open", "acknowledged", "resolved")


def _query(request: Request) -> IncidentQuery:
    q = request.query_params
    status = q.get("status") or None
    return IncidentQuery(
        q.get("org") or None,
        q.get("source") or None,
        q.get("team") or None,
        status if status in STATUSES else None,
    )


def _start(request: Request) -> int:
    raw = request.query_params.get("start", "0")
    return max(0, int(raw)) if raw.isdigit() else 0


async def incidents_page(request: Request, **shown: Any) -> Response:
    console = console_of(request)
    view = console.view
    query = _query(request)
    now = int(time.time() * 1000)
    held = view.incidents.held()
    rows = incident_rows(held, view.incident_alerts, query, now, console.policy)
    start = _start(request)
    page = rows[start : start + PAGE_SIZE]
    shown_rows = [
        {
            "incident": i,
            "alerts": view.incident_alerts.of(i.incident_key),
            "teams": teams_of(i, view.incident_alerts),
            "opener": view.incident_alerts.refs.get(i.state.opened_by or ""),
        }
        for i in page
    ]
    teams = sorted(
        {t for a in view.incident_alerts.by_incident.values() for t in a.teams}
        | {t for i in held for t in i.state.teams}
    )
    params = {k: v for k, v in vars(query).items() if v}
    base = f"/incidents?{urlencode(params)}&" if params else "/incidents?"
    return console.page(
        request, "incidents.html", rows=shown_rows, total=len(rows), start=start,
        size=PAGE_SIZE, base=base, query=query, statuses=STATUSES, teams=teams,
        orgs=sorted({i.org for i in held}), sources=sorted(console.sources), ref_text=ref_text,
        **shown,
    )  # fmt: skip


async def operator_action(request: Request) -> Response:
    console = console_of(request)
    form = await checked_form(console, request)
    action: Action = "resolve" if form.get("action") == "resolve" else "ack"
    org, entity_id = form.get("org", ""), form.get("entity_id", "")
    by = form.get("by", "").strip() or "console"
    message = form.get("message", "").strip() or None
    now = int(time.time() * 1000)
    held = console.view.incidents.get(org, entity_id)
    state = held.state if held is not None and not held.expired(now, console.policy) else None
    routing_key = console.view.incident_alerts.of(f"{org}/{entity_id}").routing_key
    event = operator_event(action, org, entity_id, by, message, routing_key, now)
    topics = console.kafka_settings.topics
    seen = preview(
        event, state, topics.raw, console.view.routes.configs, console.schemas(), console.policy
    )
    if seen.decision is None:
        return await incidents_page(
            request, error=f"stage 1 would refuse it ({seen.dead_letter}): nothing recorded"
        )
    try:
        partition, offset = await record_event(console.kafka, topics.raw, event, console.timeout)
    except KafkaUnreachable as exc:
        return await incidents_page(request, error=str(exc))
    verdict = "emitted" if seen.decision.emit else "suppressed"
    verb = "Acknowledgement" if action == "ack" else "Resolution"
    return await incidents_page(
        request,
        notice=f"{verb} of {org}/{entity_id} by {by} recorded; the worker decides it "
        f"({verdict}: {seen.decision.reason}).",
        recorded=ref_text(topics.raw, partition, offset),
    )
