"""What every page handler gets: the settings, the view derived from Kafka, the sources and
their schemas, the incident policy, and the template renderer."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from alertpipe.console.health import HealthSampler
from alertpipe.console.security import CSRF_FIELD, csrf_ok, csrf_token
from alertpipe.console.settings import ConsoleSettings
from alertpipe.console.view import ConsoleView
from kafkaio.clients import KafkaTarget
from kafkaio.settings import Settings
from processors.incidents import IncidentPolicy
from processors.replay import iso_time
from processors.validate import SchemaSet
from schemas.registry import SourceInfo, read_catalog

HERE = Path(__file__).parent
NAV = (
    ("integrations", "Integrations"),
    ("routes", "Routes"),
    ("incidents", "Incidents"),
    ("dead-letters", "Dead letters"),
    ("maintenance", "Maintenance"),
    ("health", "Health"),
)
PAGE_SIZE = 50


def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = lambda ms: iso_time(ms) if ms else "-"
    return env


@dataclass
class Console:
    settings: ConsoleSettings
    kafka: KafkaTarget
    view: ConsoleView
    sources: dict[str, SourceInfo]
    policy: IncidentPolicy
    repartition: str  # the worker group's repartition topic (where redriven alerts go)
    group: str  # the worker group (its lag on the raw topic)
    env: Environment
    health: HealthSampler
    timeout: float = 15.0
    _compiled: tuple[tuple[tuple[str, int, int], ...], SchemaSet] | None = None

    @property
    def token(self) -> str:
        return self.settings.token.reveal()

    @property
    def kafka_settings(self) -> Settings:
        return self.settings.kafka

    def schemas(self) -> SchemaSet:
        """As each CLI command compiles them at its start, but again whenever a file of
        ALERTPIPE_SCHEMA_DIR or ALERTPIPE_SOURCES_DIR changed: a schema fix is used by the
        next redrive, check or test without a restart. Raises RegistryError."""
        fixes, extra = self.kafka_settings.schema_dir, self.kafka_settings.sources_dir
        stamp = tuple(
            (str(p), s.st_mtime_ns, s.st_size)
            for d in (fixes, extra)
            if d is not None
            for p in sorted(d.rglob("*"))
            if p.is_file() and (s := p.stat())
        )
        if self._compiled is None or self._compiled[0] != stamp:
            self._compiled = (stamp, SchemaSet(read_catalog(extra, fixes)))
        return self._compiled[1]

    def page(self, request: Request, template: str, status: int = 200, **data: Any) -> HTMLResponse:
        session = request.scope.get("console.session", "")
        nonce = secrets.token_urlsafe(12)
        html = self.env.get_template(template).render(
            request=request,
            nav=NAV,
            here=template.removesuffix(".html"),
            csrf_field=CSRF_FIELD,
            csrf=csrf_token(self.token, session),
            nonce=nonce,
            problems=self.view.problems(),
            **data,
        )
        return HTMLResponse(html, status, headers=page_headers(nonce))


def page_headers(nonce: str) -> dict[str, str]:
    """Every page shows data: never stored by a browser or a proxy; no framing; scripts only
    with this answer's nonce."""
    return {
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'self'; img-src 'self' data:; "
            f"script-src 'nonce-{nonce}'; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'none'"
        ),
    }


async def checked_form(console: Console, request: Request) -> dict[str, str]:
    """The POSTed form, after its CSRF token was checked (403 without a valid one)."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    session = request.scope.get("console.session", "")
    if not csrf_ok(console.token, session, fields.get(CSRF_FIELD)):
        raise HTTPException(403, "missing or invalid CSRF token: reload the page and try again")
    return fields


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


async def until_followed(seen: Callable[[], bool], timeout: float = 10.0) -> bool:
    """After an action wrote to a topic the view follows: wait (briefly) until the view has
    the record, so the page answered next shows it. False when it did not come in time."""
    deadline = time.monotonic() + timeout
    while not seen():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True
