"""*Integrations*: every source with its setup guide, the keys per org, **Enable integration**
(the service URL shown once: keys are stored only as hashes), revoke, and **Send test alert**
through the real ingress."""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from alertpipe.console.context import checked_form, console_of, until_followed
from alertpipe.console.guides import render_guide
from alertpipe.jobs.integrations import IntegrationError, enable, revoke, service_url
from alertpipe.jobs.testalert import alert_test_body, send_test_alert
from processors.replay import iso_time
from schemas.registry import SourceInfo

PLACEHOLDER = "$routing_key"


@lru_cache(maxsize=256)  # read and rendered once per process, not on every page load
def guide_of(guides: Path | None, source: str) -> Markup | None:
    """The source's setup guide (``<guides>/<source>.md``) as HTML; None when there is none."""
    path = None if guides is None else guides / f"{source}.md"
    return render_guide(path.read_text()) if path is not None and path.is_file() else None


def _rows(request: Request) -> list[dict[str, object]]:
    console = console_of(request)
    org = request.query_params.get("org") or None
    keys = [i for i in console.view.keys.table.all() if org is None or i.org == org]
    keys.sort(key=lambda i: (i.org, i.source, -i.created_at))
    return [
        {
            "key_id": i.key_id, "org": i.org, "source": i.source,
            "created": iso_time(i.created_at), "routing_key": i.routing_key or "",
            "status": "active" if i.active else "revoked",
            "revoked": iso_time(i.revoked_at) if i.revoked_at else "",
        }
        for i in keys
    ]  # fmt: skip


def _enableable(sources: dict[str, SourceInfo]) -> list[SourceInfo]:
    return sorted((s for s in sources.values() if s.keys_from is None), key=lambda s: s.name)


async def integrations_page(request: Request, **shown: Any) -> Response:
    console = console_of(request)
    sources = sorted(console.sources.values(), key=lambda s: s.name)
    guides = console.settings.guides_dir
    return console.page(
        request, "integrations.html",
        sources=[(s, guide_of(guides, s.name)) for s in sources],
        enableable=_enableable(console.sources),
        keys=_rows(request), org=request.query_params.get("org", ""), placeholder=PLACEHOLDER,
        **shown,
    )  # fmt: skip


async def enable_action(request: Request) -> Response:
    console = console_of(request)
    form = await checked_form(console, request)
    routing_key = form.get("routing_key", "").strip() or None
    topic_arns = tuple(form.get("topic_arns", "").replace(",", " ").split())
    try:
        done = await enable(
            console.kafka, console.kafka_settings.topics.integrations, console.sources,
            form.get("source", ""), form.get("org", "").strip(), console.settings.public_url,
            routing_key, topic_arns,
        )  # fmt: skip
    except IntegrationError as exc:
        return await integrations_page(request, error=str(exc))
    info = console.sources[done.integration.source]
    keys = console.view.keys.table
    await until_followed(lambda: any(i.key_id == done.integration.key_id for i in keys.all()))
    # The key goes back in the page only (a hidden field of the test form): never stored.
    return await integrations_page(
        request, enabled=done, enabled_info=info,
        can_test=alert_test_body(info, 0) is not None and bool(info.paths),
    )  # fmt: skip


async def revoke_action(request: Request) -> Response:
    console = console_of(request)
    form = await checked_form(console, request)
    try:
        item, changed = await revoke(
            console.kafka, console.kafka_settings.topics.integrations, form.get("key_id", "")
        )
    except IntegrationError as exc:
        return await integrations_page(request, error=str(exc))
    keys = console.view.keys.table
    await until_followed(lambda: any(i.key_id == item.key_id and not i.active for i in keys.all()))
    said = f"Revoked {item.key_id}" if changed else f"{item.key_id} was already revoked"
    return await integrations_page(request, notice=f"{said} ({item.source}, org {item.org}).")


async def send_test_action(request: Request) -> Response:
    """POST the source's test body to the service URL of the key just enabled (the page
    holds the key; the console does not), then show the alert it produced."""
    console = console_of(request)
    form = await checked_form(console, request)
    info = console.sources.get(form.get("source", ""))
    key = form.get("key", "")
    test = alert_test_body(info, int(time.time() * 1000)) if info is not None else None
    if info is None or test is None or not key:
        return await integrations_page(request, error="no test alert for that source")
    routing_key = form.get("routing_key", "").strip() or None
    url = service_url(console.settings.ingress_url, info, key, routing_key)
    try:
        answer = await send_test_alert(url, test)
    except OSError as exc:
        return await integrations_page(
            request, error=f"the ingress at {console.settings.ingress_url} did not answer: {exc}"
        )
    if answer.status >= 300 or not answer.request_id:
        return await integrations_page(
            request, error=f"the ingress answered {answer.status}: {answer.text}"
        )
    return RedirectResponse(f"/alerts/request/{answer.request_id}", 303)
