"""The ASGI middleware in front of every page: the token (``security.access``), the session
cookie it sets, and the redirect that drops ``?token=`` from the URL. Only /healthz is open."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from alertpipe.console.security import SESSION_COOKIE, access

OPEN_PATHS = ("/healthz",)
UNAUTHORIZED = (
    "401 Unauthorized: open the console with the URL `alertpipe console` printed "
    "(?token=...), or send Authorization: Bearer <ALERTPIPE_CONSOLE_TOKEN>.\n"
)


class TokenGuard:
    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        query = request.query_params.get("token")
        granted = access(
            self.token,
            request.headers.get("authorization"),
            request.cookies.get(SESSION_COOKIE),
            query,
        )
        response: Response
        if granted.session is None:
            response = PlainTextResponse(
                UNAUTHORIZED,
                401,
                headers={"WWW-Authenticate": "Bearer", "Cache-Control": "no-store"},
            )
            await response(scope, receive, send)
            return
        if granted.drop_token:
            rest = [(k, v) for k, v in parse_qsl(request.url.query) if k != "token"]
            target = scope["path"] + (f"?{urlencode(rest)}" if rest else "")
            response = RedirectResponse(target, 303, headers={"Cache-Control": "no-store"})
            if granted.set_cookie is not None:
                response.set_cookie(
                    SESSION_COOKIE, granted.set_cookie, httponly=True, samesite="strict",
                    path="/", secure=request.url.scheme == "https",
                )  # fmt: skip
            await response(scope, receive, send)
            return
        scope["console.session"] = granted.session
        await self.app(scope, receive, send)
