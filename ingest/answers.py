"""How the ingress answers, per protocol (``SourceInfo.protocol``): alertpipe's own
``{"result": ...}`` bodies, VictorOps REST's (``entity_id``), and PagerDuty Events API v2's
(``{"status", "message", "dedup_key" | "errors"}``, 202 for an accepted event). Pure: a
rejection or an accepted body in, status + body + headers out."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from ingest.admission import Admission, Rejection
from ingest.pagerduty import INVALID, INVALID_MESSAGE
from ingest.victorops import check_generic_body

JSON = b"application/json"
Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: bytes = JSON
    headers: tuple[tuple[bytes, bytes], ...] = ()


def _pagerduty_rejection(rejection: Rejection) -> Answer:
    if rejection.reason == "unknown_key":  # PagerDuty answers this one as plain text
        return Answer(400, rejection.message.encode(), b"text/plain; charset=utf-8")
    if rejection.reason == "invalid_event":
        payload: dict[str, object] = {
            "status": INVALID,
            "message": INVALID_MESSAGE,
            "errors": list(rejection.errors),
        }
    elif rejection.status in (413, 415):
        payload = {"status": INVALID, "message": INVALID_MESSAGE, "errors": [rejection.message]}
    elif rejection.status == 429:
        payload = {"status": "throttle event", "message": rejection.message}
    else:
        payload = {"status": "error", "message": rejection.message}
    return Answer(rejection.status, orjson.dumps(payload))


def rejection_answer(rejection: Rejection, request_id: str) -> Answer:
    rid = (b"x-request-id", request_id.encode())
    if rejection.protocol in ("pagerduty_events", "pagerduty_change"):
        found = _pagerduty_rejection(rejection)
        return Answer(found.status, found.body, found.content_type, (rid, *rejection.headers))
    payload = {
        "result": "failure",
        "message": rejection.message,
        "request_id": request_id,
        **rejection.extra,
    }
    return Answer(rejection.status, orjson.dumps(payload), JSON, (rid, *rejection.headers))


def json_answer(status: int, payload: object, request_id: str) -> Answer:
    return Answer(status, orjson.dumps(payload), JSON, ((b"x-request-id", request_id.encode()),))


@dataclass(frozen=True)
class Accepted:
    """What the raw record carries beyond the common headers, and what is answered once
    Kafka has it."""

    entity_id: str | None  # the raw record's entity_id header
    answer: Answer


def accepted(admission: Admission, body: bytes, request_id: str, new_id: str) -> Accepted:
    """``new_id``: the entity id VictorOps REST answers for a body that names none."""
    rid = ((b"x-request-id", request_id.encode()),)
    protocol, event = admission.source.protocol, admission.event
    if protocol == "victorops_rest":
        verdict = check_generic_body(body, new_id)
        if verdict.failure is not None:  # recorded raw all the same: never dropped silently
            failure = {"result": "failure", "message": verdict.failure}
            return Accepted(verdict.entity_id, Answer(400, orjson.dumps(failure), JSON, rid))
        success = {"result": "success", "entity_id": verdict.entity_id}
        return Accepted(verdict.entity_id, Answer(200, orjson.dumps(success), JSON, rid))
    if event is not None:
        if event.errors:  # recorded raw all the same: the worker dead-letters it
            invalid = {"status": INVALID, "message": INVALID_MESSAGE, "errors": list(event.errors)}
            return Accepted(event.entity_id, Answer(400, orjson.dumps(invalid), JSON, rid))
        if event.dedup_key is None:
            done: dict[str, str] = {"status": "success", "message": "Change event processed"}
        else:
            done = {"status": "success", "message": "Event processed", "dedup_key": event.dedup_key}
        return Accepted(event.entity_id, Answer(202, orjson.dumps(done), JSON, rid))
    success = {"result": "success", "request_id": request_id}
    return Accepted(None, Answer(200, orjson.dumps(success), JSON, rid))
