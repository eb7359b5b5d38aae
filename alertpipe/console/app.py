"""The console's ASGI app: the pages behind the token guard, the stylesheet, and the view
followed from Kafka for as long as the app runs."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiokafka.errors import KafkaError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from alertpipe.console.context import HERE, Console, console_of
from alertpipe.console.guard import TokenGuard
from alertpipe.console.pages.alerts import request_alerts_page
from alertpipe.console.pages.deadletters import (
    dead_letter_page,
    dead_letters_page,
    redrive_action,
)
from alertpipe.console.pages.explain import explain_page
from alertpipe.console.pages.health import health_page
from alertpipe.console.pages.incidents import incidents_page, operator_action
from alertpipe.console.pages.integrations import (
    enable_action,
    integrations_page,
    revoke_action,
    send_test_action,
)
from alertpipe.console.pages.maintenance import end_action, maintenance_page, start_action
from alertpipe.console.pages.routes import routes_page, routes_test_action
from kafkaio.follower import TopicMissing
from schemas.errors import AlertpipeError, UsageError


async def home(request: Request) -> Response:
    return RedirectResponse("/integrations", 303)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


async def refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return PlainTextResponse(
        f"{exc.status_code}: {exc.detail}\n", exc.status_code, headers={"Cache-Control": "no-store"}
    )


async def failed(request: Request, exc: Exception) -> Response:
    """alertpipe's own errors (Kafka unreachable, a topic missing, a bad source file) and the
    Kafka client's as a page that says so, instead of a bare 500."""
    if isinstance(exc, AlertpipeError):
        status = 400 if isinstance(exc, UsageError) and not isinstance(exc, TopicMissing) else 503
        message = str(exc)
    else:
        status, message = 503, f"cannot reach Kafka: {exc!r}"
    return console_of(request).page(request, "error.html", status, message=message)


def routes() -> list[Route | Mount]:
    return [
        Route("/", home),
        Route("/healthz", healthz),
        Route("/integrations", integrations_page),
        Route("/integrations/enable", enable_action, methods=["POST"]),
        Route("/integrations/revoke", revoke_action, methods=["POST"]),
        Route("/integrations/test", send_test_action, methods=["POST"]),
        Route("/alerts/request/{request_id}", request_alerts_page),
        Route("/incidents", incidents_page),
        Route("/incidents/act", operator_action, methods=["POST"]),
        Route("/explain/{ref:path}", explain_page),
        Route("/health", health_page),
        Route("/routes", routes_page),
        Route("/routes/test", routes_test_action, methods=["POST"]),
        Route("/maintenance", maintenance_page),
        Route("/maintenance/start", start_action, methods=["POST"]),
        Route("/maintenance/end", end_action, methods=["POST"]),
        Route("/dead-letters", dead_letters_page),
        Route("/dead-letters/redrive", redrive_action, methods=["POST"]),
        Route("/dead-letters/{partition:int}/{offset:int}", dead_letter_page),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


def console_app(console: Console, follow: bool = True) -> ASGIApp:
    """``follow``: start following Kafka with the app (off in tests of pages alone)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if follow:
            await console.view.start()
            console.health.start()
        try:
            yield
        finally:
            if follow:
                await console.health.stop()
                await console.view.stop()

    app = Starlette(
        routes=routes(), lifespan=lifespan,
        exception_handlers={
            HTTPException: refused, AlertpipeError: failed, KafkaError: failed,
            TimeoutError: failed, OSError: failed,
        },
    )  # fmt: skip
    app.state.console = console
    return TokenGuard(app, console.token)
