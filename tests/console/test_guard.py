"""The token guard and the page headers, in-process."""

from __future__ import annotations

from alertpipe.console.security import SESSION_COOKIE
from tests.console.pages import TOKEN, csrf_of, offline_client, signed_in

ORG = "acme"


async def test_pages_without_the_token_get_401() -> None:
    client = offline_client()
    for path in ("/", "/integrations", "/static/console.css", "/alerts/request/x"):
        answer = await client.get(path)
        assert answer.status_code == 401, path
        assert "token" in answer.text
    assert (await client.get("/integrations?token=wrong")).status_code == 401
    wrong = await client.get("/integrations", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401
    assert (await client.get("/healthz")).status_code == 200  # the one open path, no data


async def test_token_in_the_url_sets_a_strict_cookie_and_is_dropped() -> None:
    client = offline_client()
    answer = await client.get(f"/integrations?org=acme&token={TOKEN}")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/integrations?org=acme"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert TOKEN not in cookie
    page = await client.get("/integrations?org=acme")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_bearer_token_works_without_a_cookie() -> None:
    answer = await offline_client().get(
        "/integrations", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 200
    assert "set-cookie" not in answer.headers


async def test_an_action_without_its_csrf_token_is_refused() -> None:
    client = await signed_in(offline_client())
    for path in ("/integrations/enable", "/integrations/revoke", "/integrations/test"):
        answer = await client.post(path, data={"source": "generic", "org": "acme", "key_id": "k"})
        assert answer.status_code == 403, path
        assert "CSRF" in answer.text
        wrong = await client.post(path, data={"csrf": "0" * 64, "key_id": "k"})
        assert wrong.status_code == 403, path


async def test_the_csrf_token_of_one_session_fails_in_another() -> None:
    one, two = await signed_in(offline_client()), await signed_in(offline_client())
    token = csrf_of((await one.get("/integrations")).text)
    answer = await two.post("/integrations/revoke", data={"csrf": token, "key_id": "k"})
    assert answer.status_code == 403


async def test_every_page_renders_from_a_view_that_has_loaded_nothing() -> None:
    """Before the view has caught up (Kafka slow or away), the pages answer and say so."""
    client = offline_client()
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    pages = ("/integrations", "/routes", "/incidents", "/dead-letters", "/maintenance", "/health",
             "/alerts/request/none", "/incidents?status=resolved&start=50")  # fmt: skip
    for path in pages:
        answer = await client.get(path, headers=bearer)
        assert answer.status_code == 200, f"{path}: {answer.text[:300]}"
        assert "Still loading from Kafka" in answer.text, path
    assert (await client.get("/explain/not-a-ref", headers=bearer)).status_code == 400


async def test_kafka_away_is_a_page_that_says_so_not_a_500() -> None:
    client = await signed_in(offline_client())
    token = csrf_of((await client.get("/integrations")).text)
    form = {"csrf": token, "org": ORG, "id": "mw-x"}
    answer = await client.post("/maintenance/end", data=form)
    assert answer.status_code == 503, answer.text[:500]
    assert "Kafka" in answer.text
