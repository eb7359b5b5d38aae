"""Who may use the console, pure: the operator token, the session cookie it buys, and the CSRF
token of that session. Everything is an HMAC keyed by the token, so changing
ALERTPIPE_CONSOLE_TOKEN and restarting ends every session, and nothing is stored.

- ``Authorization: Bearer <token>`` on any request, or ``?token=<token>`` once: the answer sets
  an HttpOnly, SameSite=Strict session cookie and redirects to the same URL without the token
  (so it leaves the address bar and the history).
- Every POST carries ``csrf`` (a hidden form field), the HMAC of its session id: a page of
  another site can neither read it nor, with SameSite=Strict, send the cookie at all.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

SESSION_COOKIE = "alertpipe_console"
CSRF_FIELD = "csrf"
BEARER_SESSION = "bearer"  # the session id of requests that carry the token themselves


def _sign(token: str, purpose: str, value: str) -> str:
    mac = hmac.new(token.encode(), f"{purpose}|{value}".encode(), hashlib.sha256)
    return mac.hexdigest()


def token_matches(token: str, given: str | None) -> bool:
    """Constant-time comparison; an empty or missing value never matches."""
    return bool(given) and hmac.compare_digest(token.encode(), (given or "").encode())


def bearer_of(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, else None."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def new_session_cookie(token: str) -> str:
    """A fresh session id and its signature: ``<id>.<hmac>``."""
    sid = secrets.token_urlsafe(18)
    return f"{sid}.{_sign(token, 'session', sid)}"


def session_of(token: str, cookie: str | None) -> str | None:
    """The session id of a cookie this console signed, else None."""
    if not cookie or "." not in cookie:
        return None
    sid, _, signature = cookie.rpartition(".")
    if not sid or not hmac.compare_digest(
        signature.encode(), _sign(token, "session", sid).encode()
    ):
        return None
    return sid


def csrf_token(token: str, session: str) -> str:
    return _sign(token, "csrf", session)


def csrf_ok(token: str, session: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(
        csrf_token(token, session).encode(), (given or "").encode()
    )


@dataclass(frozen=True)
class Access:
    """What a request's credentials give: a session id (None: no access), whether to set the
    cookie, and whether to redirect to drop ``?token=`` from the URL."""

    session: str | None
    set_cookie: str | None = None
    drop_token: bool = False


def access(token: str, authorization: str | None, cookie: str | None, query: str | None) -> Access:
    """Decide from the header, the cookie and the ``token`` query parameter, in that order."""
    if token_matches(token, bearer_of(authorization)):
        return Access(BEARER_SESSION)
    sid = session_of(token, cookie)
    if query is not None:
        if not token_matches(token, query):
            return Access(None)
        if sid is not None:
            return Access(sid, drop_token=True)
        fresh = new_session_cookie(token)
        return Access(fresh.rpartition(".")[0], set_cookie=fresh, drop_token=True)
    return Access(sid)
