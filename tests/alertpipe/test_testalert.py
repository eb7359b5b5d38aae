"""The console's **Send test alert** body per source: what the source's own Test button sends,
valid for its schema, so the test reaches the worker instead of the dead-letter topic."""

from __future__ import annotations

import orjson

from alertpipe.jobs.testalert import alert_test_body
from processors.explain import schema_verdict
from processors.validate import schema_set
from schemas.raw import RawHeaders
from schemas.registry import catalog


def test_every_source_with_a_url_has_a_valid_test_body() -> None:
    schemas = schema_set()
    for name, info in catalog().items():
        body = alert_test_body(info, 1_700_000_000_000)
        if not info.paths:
            continue  # its key is in the body (PagerDuty): the console offers no test
        assert body is not None, name
        envelope = RawHeaders(name, "acme", "k", "", body.content_type, 0, "r", "", "t", "e")
        verdict = schema_verdict(envelope, body.body, schemas)
        assert verdict.checked, (name, verdict.unchecked_because)
        assert verdict.errors == (), (name, verdict.errors)


def test_thousandeyes_gets_its_webhook_test_with_a_fresh_event_id() -> None:
    info = catalog()["thousandeyes"]
    one, two = alert_test_body(info, 1), alert_test_body(info, 2)
    assert one is not None
    assert two is not None
    assert orjson.loads(one.body) == {"eventType": "WEBHOOK_TEST", "eventId": "alertpipe-console-1"}
    assert one.body != two.body  # never suppressed as a redelivery of the last test
