"""The alert a request produced (after **Send test alert**): found through the raw record the
request id names and the delivered alerts that point back at it; the page reloads itself
until they are there."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from alertpipe.console.context import console_of
from schemas.normalized import ref_text


async def request_alerts_page(request: Request) -> Response:
    console = console_of(request)
    request_id = request.path_params["request_id"]
    alerts = console.view.activity.alerts_of_request(request_id)
    raw = console.view.activity.requests.get(request_id)
    shown = [
        {"alert": {k: v for k, v in a.items() if k != "_ref"}, "ref": ref_text(*a["_ref"])}
        for a in alerts or []
    ]
    return console.page(
        request, "alerts.html", request_id=request_id, alerts=shown,
        raw_ref=ref_text(*raw) if raw else None, waiting=not shown,
    )  # fmt: skip
