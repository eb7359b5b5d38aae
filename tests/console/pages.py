"""The console app in-process (httpx's ASGI transport) over a view that follows nothing: the
guard, the headers and the forms, without Kafka."""

from __future__ import annotations

import re

import httpx

from alertpipe.console.app import console_app
from alertpipe.console.server import build_console
from alertpipe.console.settings import load_console_settings
from processors.incidents import IncidentPolicy
from schemas.registry import catalog

TOKEN = "unit-test-token-0123456789"


def offline_client() -> httpx.AsyncClient:
    """A client of a console whose Kafka is never contacted (nothing listens on port 1)."""
    settings = load_console_settings({"ALERTPIPE_CONSOLE_TOKEN": TOKEN})
    console = build_console(settings, "127.0.0.1:1", catalog(), IncidentPolicy(), "unit")
    transport = httpx.ASGITransport(app=console_app(console, follow=False))
    return httpx.AsyncClient(transport=transport, base_url="http://console")


async def signed_in(client: httpx.AsyncClient) -> httpx.AsyncClient:
    answer = await client.get(f"/integrations?token={TOKEN}")
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)
