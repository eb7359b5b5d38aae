"""The console in a real headless chromium against a real ingress, worker and broker, one flow
after another on one stack (``conftest.stack``): what an operator does, click by click."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.console.conftest import ORG, TOKEN, Stack, shot

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "thousandeyes"
SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "sources" / "thousandeyes.schema.json"


class Shared:
    """What one flow leaves for the next (the service URL is shown only once)."""

    url: str = ""


def post_webhook(url: str, body: dict[str, Any]) -> str:
    """POST as ThousandEyes does; the ingress's request id."""
    answer = httpx.post(url, content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    request_id: str = answer.json()["request_id"]
    return request_id


def reload_until(page: Page, url: str, found: Callable[[], Locator], timeout: float = 30) -> None:
    """Load ``url`` again every half second until ``found()`` is visible: the console shows
    what the worker committed, a moment after the webhook."""
    deadline = time.monotonic() + timeout
    page.goto(url)
    while not found().is_visible():
        assert time.monotonic() < deadline, f"{url}: not shown within {timeout:.0f}s"
        page.wait_for_timeout(500)
        page.goto(url)


def test_pages_without_the_token_get_401(stack: Stack) -> None:
    for path in ("/", "/integrations", "/incidents", "/dead-letters", "/health"):
        answer = httpx.get(f"{stack.console_url}{path}")
        assert answer.status_code == 401, path
    assert httpx.get(f"{stack.console_url}/?token=wrong-token").status_code == 401


def test_sign_in_drops_the_token_from_the_address(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.console_url}/?token={TOKEN}")
    expect(page).to_have_url(f"{stack.console_url}/integrations")
    expect(page.get_by_role("heading", name="Integrations", exact=True)).to_be_visible()


def test_an_action_without_its_csrf_token_is_refused(page: Page, stack: Stack) -> None:
    """The browser's own session cookie, and a form without the hidden field."""
    answer = page.request.post(
        f"{stack.console_url}/integrations/enable", form={"source": "generic", "org": ORG}
    )
    assert answer.status == 403
    assert "CSRF" in answer.text()
    forged = page.request.post(
        f"{stack.console_url}/integrations/enable",
        form={"source": "generic", "org": ORG, "csrf": "0" * 64},
    )
    assert forged.status == 403


def test_enable_an_integration_and_copy_its_url(page: Page, stack: Stack, shots: Path) -> None:
    page.goto(f"{stack.console_url}/integrations")
    page.get_by_label("Source", exact=True).select_option("thousandeyes")
    page.get_by_label("Organisation", exact=True).fill(ORG)
    page.get_by_role("button", name="Enable integration").click()
    url_box = page.get_by_label("Service URL")
    expect(url_box).to_have_value(re.compile(r"/integrations/thousandeyes/v1/[0-9a-f-]{36}/"))
    assert url_box.input_value().endswith("/$routing_key")
    expect(page.locator("#placeholder-warning")).to_be_visible()
    page.get_by_label("Routing key to put in the URL").fill("ops")
    expect(page.locator("#placeholder-warning")).to_be_hidden()
    expect(url_box).to_have_value(re.compile(r"/ops$"))
    page.get_by_role("button", name="Copy URL").click()
    expect(page.locator("#copied")).to_have_text("Copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == url_box.input_value()
    Shared.url = copied
    shot(page, shots, "integrations")
    # the key is listed by its id, never shown again
    page.goto(f"{stack.console_url}/integrations?org={ORG}")
    expect(page.get_by_role("cell", name="thousandeyes", exact=True)).to_be_visible()
    assert Shared.url.split("/")[-2] not in page.content()
    guide = page.locator("details", has_text="Setup guide: ThousandEyes classic webhook")
    guide.locator("summary").focus()
    page.keyboard.press("Enter")  # the guide opens from the keyboard
    expect(guide.get_by_role("listitem").last).to_contain_text("Attach the webhook")


def test_a_thousandeyes_test_posted_to_the_url_shows_its_alert(
    page: Page, stack: Stack, shots: Path
) -> None:
    body = json.loads((FIXTURES / "webhook-test.json").read_text())
    assert Shared.url.startswith(stack.ingress.base_url)  # the console shows the ingress's URLs
    request_id = post_webhook(Shared.url, {**body, "eventId": "console-flow-1"})
    page.goto(f"{stack.console_url}/alerts/request/{request_id}")
    alert = page.locator("section.alert")
    expect(alert).to_contain_text("INFO", timeout=30_000)
    expect(alert).to_contain_text("thousandeyes:test:console-flow-1")
    expect(alert).to_contain_text("test: never opens an incident")
    shot(page, shots, "alert")


def test_send_test_alert_goes_through_the_ingress(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.console_url}/integrations")
    page.get_by_label("Source", exact=True).select_option("generic")
    page.get_by_label("Organisation", exact=True).fill("sandbox")
    page.get_by_role("button", name="Enable integration").click()
    page.get_by_role("button", name="Send test alert").click()
    expect(page).to_have_url(re.compile(r"/alerts/request/"))
    expect(page.locator("section.alert")).to_contain_text("alertpipe console", timeout=30_000)
    page.goto(f"{stack.console_url}/integrations?org=sandbox")
    key = page.get_by_role("row", name=re.compile("^sandbox generic"))
    key.get_by_role("button", name=re.compile("^Revoke key")).click()
    expect(page.locator(".notice")).to_contain_text("Revoked")
    expect(key).to_contain_text("revoked")
    expect(key.get_by_role("button")).to_have_count(0)


def test_a_trigger_opens_an_incident_that_the_operator_acknowledges(
    page: Page, stack: Stack, shots: Path
) -> None:
    post_webhook(Shared.url, json.loads((FIXTURES / "trigger.json").read_text()))
    url = f"{stack.console_url}/incidents?org={ORG}"
    incident = page.locator("section.incident", has_text="thousandeyes:119245678")
    reload_until(page, url, lambda: incident)
    expect(incident).to_contain_text("open")
    expect(incident).to_contain_text("teams operations")  # routing key ops (the default: noc)
    expect(incident).to_contain_text("Opened by thousandeyes alert")
    shot(page, shots, "incidents")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the table rows stack
    shot(page, shots, "incidents-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    incident.get_by_label("Message (optional)").fill("looking at it")
    incident.get_by_role("button", name="Acknowledge thousandeyes:119245678").click()
    expect(page.locator(".notice")).to_contain_text(
        "Acknowledgement of acme/thousandeyes:119245678"
    )
    page.locator(".notice").get_by_role("link", name="explain").click()
    expect(page.locator("pre")).to_contain_text("ACKNOWLEDGEMENT", timeout=30_000)
    shot(page, shots, "explain")
    acked = page.locator("section.incident", has_text="thousandeyes:119245678")
    reload_until(page, url, lambda: acked.locator(".status-acknowledged"))
    resolved_filter = f"{stack.console_url}/incidents?org={ORG}&status=open"
    page.goto(resolved_filter)
    expect(page.get_by_text("No incidents match.")).to_be_visible()


def test_a_dead_letter_is_redriven_after_a_schema_fix(
    page: Page, stack: Stack, shots: Path
) -> None:
    """A sender starts sending violationCount as text and testLabels as a string: the schema
    refuses both; a fixed schema (ALERTPIPE_SCHEMA_DIR) accepts them, and the redrive, dry
    first, turns the dead letter into the incident it should have opened."""
    body = json.loads((FIXTURES / "trigger.json").read_text())
    body["alert"].update(alertId=5550001, violationCount="2", testLabels="web")
    body["eventId"] = "console-dead-1"
    post_webhook(Shared.url, body)
    listed = page.locator("table tr", has_text="thousandeyes").filter(has_text="schema")
    reload_until(page, f"{stack.console_url}/dead-letters", lambda: listed.first)
    expect(page.locator("section.card", has_text="By code")).to_contain_text("schema")
    shot(page, shots, "dead-letters")
    listed.first.get_by_role("link").click()
    errors = page.locator("table.schema-errors")
    expect(errors).to_contain_text("$.alert.violationCount")
    expect(errors).to_contain_text("$.alert.testLabels")
    expect(page.locator("pre")).to_contain_text('"violationCount": "2"')
    expect(page.get_by_role("row", name=re.compile("request_id"))).to_be_visible()
    shot(page, shots, "dead-letter")
    detail = page.url
    page.get_by_role("button", name="Redrive (dry run)").click()
    expect(page.get_by_role("cell", name="would fail")).to_be_visible()
    schema = json.loads(SCHEMA.read_text())
    schema["$defs"]["alert"]["properties"]["violationCount"] = {"type": ["integer", "string"]}
    schema["$defs"]["alert"]["properties"]["testLabels"] = {}
    (stack.schema_dir / SCHEMA.name).write_text(json.dumps(schema))
    page.goto(detail)
    expect(page.get_by_text("The body is valid for the schema in force now")).to_be_visible()
    page.get_by_role("button", name="Redrive (dry run)").click()
    expect(page.get_by_role("cell", name="would pass")).to_be_visible()
    expect(page.get_by_text("dry run: nothing was written")).to_be_visible()
    page.get_by_role("button", name="Redrive for real").click()
    expect(page.get_by_text("now pass: 1 (1 alerts)")).to_be_visible()
    incident = page.locator("section.incident", has_text="thousandeyes:5550001")
    reload_until(page, f"{stack.console_url}/incidents?org={ORG}", lambda: incident)


def test_start_and_end_a_maintenance_window(page: Page, stack: Stack, shots: Path) -> None:
    page.goto(f"{stack.console_url}/maintenance")
    page.get_by_label("Org").fill(ORG)
    page.get_by_label("Routing key").fill("ops")
    page.get_by_label("For").fill("2h")
    page.get_by_label("Reason").fill("database upgrade")
    page.get_by_role("button", name="Start window").click()
    expect(page.locator(".notice")).to_contain_text("Started mw-")
    row = page.locator("table.windows tr", has_text="database upgrade")
    expect(row).to_contain_text("routing key ops")
    expect(row).to_contain_text(re.compile("upcoming|active"))
    shot(page, shots, "maintenance")
    row.get_by_role("button", name=re.compile("^End ")).click()
    expect(page.locator(".notice")).to_contain_text("Ended mw-")
    page.goto(f"{stack.console_url}/maintenance?all=1")
    ended = page.locator("table.windows tr", has_text="database upgrade")
    expect(ended).to_contain_text(re.compile("ending|ended"))
    expect(ended.get_by_role("button")).to_have_count(0)


def test_routes_show_the_table_and_test_a_pasted_body(
    page: Page, stack: Stack, shots: Path
) -> None:
    page.goto(f"{stack.console_url}/routes")
    org = page.locator("section.card", has=page.get_by_role("heading", name=ORG, exact=True))
    expect(org).to_contain_text("Default route: noc")
    expect(org.get_by_role("row", name="ops operations")).to_be_visible()
    page.get_by_label("Source").select_option("thousandeyes")
    page.get_by_label("Routing key in the URL").fill("$routing_key")
    page.get_by_label("Body", exact=True).fill((FIXTURES / "trigger.json").read_text())
    page.get_by_role("button", name="Run routes test").click()
    steps = page.locator("section.route-test")
    expect(steps).to_contain_text("Schema: valid")
    expect(steps).to_contain_text("CRITICAL thousandeyes:119245678")
    expect(steps).to_contain_text("placeholder")
    expect(steps).to_contain_text("teams: noc")
    page.get_by_label("Routing key in the URL").fill("OPS")
    page.get_by_role("button", name="Run routes test").click()
    expect(steps).to_contain_text("teams: operations")
    shot(page, shots, "routes", full_page=True)  # the steps are below the form


def test_health_shows_webhooks_per_source_lag_and_readiness(
    page: Page, stack: Stack, shots: Path
) -> None:
    url = f"{stack.console_url}/health"
    worker = page.locator("section.card", has=page.get_by_role("heading", name="Worker"))
    reload_until(page, url, lambda: worker.locator(".good"))
    ingress = page.locator("section.card", has=page.get_by_role("heading", name="Ingress"))
    expect(ingress.locator(".good")).to_have_text("ready")
    reload_until(page, url, lambda: page.locator("strong.lag"))  # a sample that read the lag
    expect(page.locator("strong.lag")).to_have_text(re.compile(r"^\d+$"))
    row = page.locator("table.sources tr", has_text="thousandeyes")
    expect(row.locator("td").nth(1)).to_have_text(re.compile(r"^[3-9]$"))  # the webhooks posted
    expect(row.locator("svg.chart")).to_have_attribute("aria-label", re.compile("peak [1-9]"))
    expect(page.locator("section.card", has_text="Dead letters")).to_contain_text("1 in the last")
    shot(page, shots, "health")
