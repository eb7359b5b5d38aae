"""A test alert through the real ingress (the console's **Send test alert**): a body the source
would send when its own Test button is pressed, POSTed to the service URL, the ingress's answer
kept (its request id leads to the raw record and the alert it produced)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import dataclass

import orjson

from schemas.registry import SourceInfo


@dataclass(frozen=True)
class TestBody:
    body: bytes
    content_type: str


@dataclass(frozen=True)
class IngressAnswer:
    status: int
    request_id: str  # "" when the ingress named none
    text: str


def alert_test_body(source: SourceInfo, now_ms: int) -> TestBody | None:
    """ThousandEyes' Test, a generic INFO, or the sample a declarative source ships whose name
    says test (else its first); None for a source without one."""
    if source.name == "thousandeyes":
        data = {"eventType": "WEBHOOK_TEST", "eventId": f"alertpipe-console-{now_ms}"}
        return TestBody(orjson.dumps(data), "application/json")
    if source.protocol == "victorops_rest" or source.name == "generic":
        data = {
            "message_type": "INFO",
            "entity_id": f"alertpipe-console-test-{now_ms}",
            "state_message": "Test alert sent from the alertpipe console",
            "monitoring_tool": "alertpipe console",
        }
        return TestBody(orjson.dumps(data), "application/json")
    if source.name == "pingometer":
        return TestBody(b"monitor_id=alertpipe-console-test&monitor_status=1",
                        "application/x-www-form-urlencoded")  # fmt: skip
    if not source.samples or not source.paths:
        return None
    chosen = next((p for p in source.samples if "test" in p.name), source.samples[0])
    ctype = "application/x-www-form-urlencoded" if chosen.suffix == ".form" else "application/json"
    return TestBody(chosen.read_bytes(), ctype)


def _post(url: str, test: TestBody, timeout: float) -> IngressAnswer:
    request = urllib.request.Request(
        url, test.body, {"Content-Type": test.content_type, "User-Agent": "alertpipe-console"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status, headers, text = answer.status, answer.headers, answer.read().decode()
    except urllib.error.HTTPError as exc:
        status, headers, text = exc.code, exc.headers, exc.read().decode("utf-8", "replace")
    request_id = headers.get("x-request-id", "") if headers else ""
    if not request_id:
        try:
            request_id = str(json.loads(text).get("request_id", ""))
        except (ValueError, AttributeError):
            request_id = ""
    return IngressAnswer(status, request_id, text[:2000])


async def send_test_alert(url: str, test: TestBody, timeout: float = 10.0) -> IngressAnswer:
    """POST ``test`` to ``url`` (a service URL); OSError when the ingress does not answer."""
    return await asyncio.to_thread(_post, url, test, timeout)
