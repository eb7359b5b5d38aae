"""The token, the session cookie and the CSRF token, without a server."""

from __future__ import annotations

from alertpipe.console.security import (
    BEARER_SESSION,
    access,
    bearer_of,
    csrf_ok,
    csrf_token,
    new_session_cookie,
    session_of,
    token_matches,
)

TOKEN = "console-token-0123456789"


def test_the_token_matches_only_itself() -> None:
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches(TOKEN, TOKEN + "x")
    assert not token_matches(TOKEN, "")
    assert not token_matches(TOKEN, None)


def test_bearer_header() -> None:
    assert bearer_of(f"Bearer {TOKEN}") == TOKEN
    assert bearer_of(f"bearer {TOKEN}") == TOKEN
    assert bearer_of(f"Basic {TOKEN}") is None
    assert bearer_of("Bearer ") is None
    assert bearer_of(None) is None


def test_a_session_cookie_is_signed_by_the_token() -> None:
    cookie = new_session_cookie(TOKEN)
    sid = session_of(TOKEN, cookie)
    assert sid is not None
    assert cookie.startswith(sid + ".")
    assert session_of("another-token-0123456789", cookie) is None  # a new token ends it
    assert session_of(TOKEN, sid + ".00") is None
    assert session_of(TOKEN, "no-dot") is None
    assert session_of(TOKEN, None) is None


def test_csrf_token_is_per_session() -> None:
    one, two = "session-one", "session-two"
    assert csrf_ok(TOKEN, one, csrf_token(TOKEN, one))
    assert not csrf_ok(TOKEN, two, csrf_token(TOKEN, one))
    assert not csrf_ok(TOKEN, one, "")
    assert not csrf_ok(TOKEN, one, None)


def test_access_by_header_cookie_or_query() -> None:
    assert access(TOKEN, f"Bearer {TOKEN}", None, None).session == BEARER_SESSION
    assert access(TOKEN, None, None, None).session is None
    assert access(TOKEN, "Bearer wrong", None, None).session is None
    first = access(TOKEN, None, None, TOKEN)  # ?token= on the first visit
    assert first.session is not None
    assert first.drop_token
    assert first.set_cookie is not None
    assert session_of(TOKEN, first.set_cookie) == first.session
    again = access(TOKEN, None, first.set_cookie, None)
    assert again.session == first.session
    assert again.set_cookie is None
    assert not again.drop_token
    assert access(TOKEN, None, first.set_cookie, "wrong").session is None
    kept = access(TOKEN, None, first.set_cookie, TOKEN)  # a second ?token= keeps the session
    assert kept.session == first.session
    assert kept.set_cookie is None
    assert kept.drop_token
