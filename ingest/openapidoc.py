"""The ingress's OpenAPI document, built from the sources it serves: ``openapi.base.json``
(info, health and metrics paths, the answer bodies) plus one operation per URL of each source.

What an operation answers depends on the source's protocol (``SourceInfo.protocol``), which
the ingress's code implements (``ingest.answers``, ``ingest.snsgate``): those answers are
described here, once per protocol. Everything else comes from the source's folder: URL
paths, content types, the summary and description, answers its mapping file documents
(``answers``), and for a protocol that reads the body (PagerDuty's) the body's schema. So a
new source, built-in or an operator's (``ALERTPIPE_SOURCES_DIR``), appears in ``/openapi.json``
with no edit here. Pure: sources in, a JSON-ready dict out.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from schemas.registry import BODY_KEY_PROTOCOLS, SourceInfo

Doc = dict[str, Any]
FORM = "application/x-www-form-urlencoded"

REQUEST_ID = {
    "X-Request-Id": {
        "description": "Id of this request, also in the raw record's request_id header.",
        "schema": {"type": "string"},
    }
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }
}
ALLOW = {"Allow": {"schema": {"type": "string"}}}
PARAMETERS = [
    {
        "name": "integration_key",
        "in": "path",
        "required": True,
        "description": "The integration key (a UUID) from `alertpipe integrations enable`.",
        "schema": {"type": "string", "format": "uuid"},
    },
    {
        "name": "routing_key",
        "in": "path",
        "required": True,
        "description": "Routing key: letters, digits, '-' and '_', case-insensitive. A URL "
        "without it, or with the literal `$routing_key`, goes to the default route.",
        "schema": {"type": "string", "maxLength": 256},
    },
]
ROUTING_KEY_400 = "Routing key not usable (not UTF-8, control characters, '/', or over 256 bytes)."
KAFKA_503 = (
    "Kafka did not acknowledge the record in time (or the ingress is still starting). "
    "Nothing is promised: retry."
)
KEY_IN_BODY = (
    "Wire-compatible with the sender's own API: the integration key is the body's "
    "routing_key, the alertpipe routing key is the integration's."
)


def _answer(
    description: str, schema: str, headers: Mapping[str, Any] | None = None, **more: Doc
) -> Doc:
    content: Doc = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    content.update(more)
    found: Doc = {"description": description, "content": content}
    if headers:
        found["headers"] = dict(headers)
    return found


def _alertpipe_answers() -> dict[int, Doc]:
    limited = {
        "allOf": [
            {"$ref": "#/components/schemas/Failure"},
            {
                "type": "object",
                "properties": {
                    "limit": {
                        "type": "object",
                        "properties": {
                            "per_second": {"type": "number"},
                            "burst": {"type": "integer"},
                        },
                    }
                },
            },
        ]
    }
    return {
        200: _answer("Recorded.", "Success", REQUEST_ID),
        400: _answer(ROUTING_KEY_400, "Failure"),
        404: _answer(
            "Unknown source, unknown/revoked integration key, or a key of another source. "
            "The body never says which.",
            "Failure",
        ),
        405: _answer("Only POST is allowed.", "Failure", ALLOW),
        408: _answer("The body did not arrive within the body timeout.", "Failure"),
        413: _answer(
            "Body larger than the limit (512 KiB by default); nothing was written and the body "
            "was not read past the limit.",
            "Failure",
        ),
        415: _answer("Content type not accepted for this source.", "Failure"),
        429: {
            "description": "Rate limit of the integration key exceeded.",
            "content": {"application/json": {"schema": limited}},
            "headers": RETRY_AFTER,
        },
        503: _answer(KAFKA_503, "Failure", RETRY_AFTER),
    }


def _victorops_answers() -> dict[int, Doc]:
    return {
        **_alertpipe_answers(),
        200: _answer(
            "Recorded; entity_id is the body's, or one generated when it had none.",
            "GenericSuccess",
            REQUEST_ID,
        ),
        400: _answer(
            "Not JSON, or message_type missing (the body was still recorded); or the routing "
            "key is not usable (not UTF-8, control characters, '/', or over 256 bytes; nothing "
            "recorded).",
            "Failure",
            REQUEST_ID,
        ),
    }


def _sns_answers() -> dict[int, Doc]:
    return {
        **_alertpipe_answers(),
        200: _answer(
            "Recorded (a subscription confirmation: recorded and confirmed with Amazon SNS).",
            "Success",
            REQUEST_ID,
        ),
        400: _answer(
            "Not a signed SNS message (not JSON, no Type or signature fields, raw message "
            "delivery, x-amz-sns-message-type not matching Type), or a routing key not usable; "
            "nothing was written.",
            "Failure",
        ),
        403: _answer(
            "A topic the integration key was not enabled for, a SigningCertURL or SubscribeURL "
            "that is not the SNS service's own, or a signature that does not verify; nothing "
            "was written or fetched.",
            "Failure",
        ),
        502: _answer(
            "A subscription confirmation was recorded but Amazon SNS did not confirm it.",
            "Failure",
        ),
        503: _answer(
            f"{KAFKA_503} For Amazon SNS also: the signing certificate could not be fetched.",
            "Failure",
            RETRY_AFTER,
        ),
    }


def _pagerduty_answers(accepted: str) -> dict[int, Doc]:
    both = {**REQUEST_ID, **RETRY_AFTER}
    return {
        202: _answer(accepted, "PagerDutySuccess", REQUEST_ID),
        400: _answer(
            'Invalid event: recorded all the same when the key is known (status "invalid '
            'event", errors). Not JSON, or no usable routing_key: nothing recorded. An unknown '
            'or revoked key: the text "Invalid routing key", as PagerDuty answers, nothing '
            "recorded.",
            "PagerDutyFailure",
            REQUEST_ID,
            **{"text/plain": {"schema": {"type": "string"}}},
        ),
        405: _answer("Only POST is allowed.", "Failure", ALLOW),
        408: _answer(
            "The body did not arrive within the body timeout.", "PagerDutyFailure", REQUEST_ID
        ),
        413: _answer(
            "Body larger than the limit (512 KiB by default, PagerDuty's limit too); nothing "
            "was written.",
            "PagerDutyFailure",
            REQUEST_ID,
        ),
        415: _answer(
            "Content type not accepted (application/json).", "PagerDutyFailure", REQUEST_ID
        ),
        429: _answer("Rate limit of the integration key exceeded.", "PagerDutyFailure", both),
        503: _answer(
            "Kafka did not acknowledge the record in time (or the ingress is still starting): "
            "retry.",
            "PagerDutyFailure",
            both,
        ),
    }


def protocol_answers(protocol: str) -> dict[int, Doc]:
    """Every answer an operation of ``protocol`` can give, by status (a fresh copy)."""
    if protocol == "victorops_rest":
        return _victorops_answers()
    if protocol == "amazon_sns":
        return _sns_answers()
    if protocol == "pagerduty_events":
        return _pagerduty_answers(
            "Recorded; dedup_key is the body's, or one generated for a trigger without one."
        )
    if protocol == "pagerduty_change":
        return _pagerduty_answers("Recorded; a change event never opens an incident.")
    return _alertpipe_answers()


SNS_ENVELOPE = {
    "type": "object",
    "required": [
        "Type",
        "MessageId",
        "TopicArn",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
    ],
    "properties": {
        name: {"type": "string"}
        for name in (
            "Type",
            "MessageId",
            "TopicArn",
            "Subject",
            "Message",
            "Timestamp",
            "SignatureVersion",
            "Signature",
            "SigningCertURL",
            "SubscribeURL",
            "Token",
            "UnsubscribeURL",
        )
    },
}


def _body_schema(info: SourceInfo, media_type: str, schema_ref: str | None) -> Doc:
    """What the ingress itself reads of a body of ``media_type``. Most protocols record any
    body as it came (the worker checks it against the source's schema later), so the schema
    is only the body's shape; the protocols that read the body say more."""
    if schema_ref is not None and _is_json(media_type):
        return {"$ref": schema_ref}
    if info.protocol == "amazon_sns":
        if _is_json(media_type):
            return copy.deepcopy(SNS_ENVELOPE)
        return {
            "type": "string",
            "description": "The SNS message as JSON text (SNS sends text/plain; charset=UTF-8).",
        }
    if info.protocol == "victorops_rest" and _is_json(media_type):
        return {
            "type": "object",
            "required": ["message_type"],
            "properties": {
                "message_type": {"type": "string"},
                "entity_id": {"type": "string", "maxLength": 512},
            },
        }
    if _is_json(media_type):
        return {"type": "object"}
    if media_type == FORM:
        return {"type": "object", "additionalProperties": {"type": "string"}}
    return {"type": "string"}


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _operation(info: SourceInfo, operation_id: str, schema_ref: str | None) -> Doc:
    answers = protocol_answers(info.protocol)
    failure = "PagerDutyFailure" if info.protocol in BODY_KEY_PROTOCOLS else "Failure"
    for status, description in info.answers:  # the mapping file's own words win
        if status in answers:
            answers[status]["description"] = description
        else:
            answers[status] = _answer(description, failure)
    description = " ".join(
        text
        for text in (info.description, KEY_IN_BODY if info.protocol in BODY_KEY_PROTOCOLS else "")
        if text
    )
    media_types = info.media_types or tuple(sorted(info.content_types))
    operation: Doc = {
        "summary": info.summary or info.title or info.name,
        "operationId": operation_id,
        "tags": [info.name],
    }
    if description:
        operation["description"] = description
    operation["requestBody"] = {
        "required": True,
        "content": {m: {"schema": _body_schema(info, m, schema_ref)} for m in media_types},
    }
    operation["responses"] = {str(s): answers[s] for s in sorted(answers)}
    return operation


def source_operations(info: SourceInfo, schema_ref: str | None = None) -> dict[str, Doc]:
    """The path items of one source: each URL path under /integrations/ with its key and
    routing key, and its endpoint (a sender's own API, the key in the body) if it has one.
    The first operation's id is the source's name, further ones ``<name>_<n>``."""
    paths: dict[str, Doc] = {}
    urls = [f"/integrations/{p}/{{integration_key}}/{{routing_key}}" for p in info.paths]
    if info.endpoint is not None:
        urls.append(info.endpoint)
    for index, url in enumerate(urls):
        operation_id = info.name if index == 0 else f"{info.name}_{index + 1}"
        operation = _operation(info, operation_id, schema_ref)
        if url.startswith("/integrations/"):
            operation = {**operation, "parameters": copy.deepcopy(PARAMETERS)}
        paths[url] = {"post": operation}
    return paths


@cache
def _base_text() -> str:
    return resources.files("ingest").joinpath("openapi.base.json").read_text()


def openapi_document(sources: Mapping[str, SourceInfo]) -> Doc:
    """The document of an ingress serving ``sources``: the base, the sources' operations in
    name order, and the body schemas of the protocols that read the body."""
    doc: Doc = json.loads(_base_text())
    schemas: Doc = doc.setdefault("components", {}).setdefault("schemas", {})
    source_paths: Doc = {}
    tags = []
    for name, info in sorted(sources.items()):
        schema_ref = None
        if info.protocol in BODY_KEY_PROTOCOLS:  # the ingress reads these bodies itself
            schema_ref = f"#/components/schemas/source.{name}"
            schemas[f"source.{name}"] = embedded_schema(info.schema, schema_ref)
        source_paths.update(source_operations(info, schema_ref))
        tags.append({"name": name, "description": info.title or name})
    doc["paths"] = {**source_paths, **doc.get("paths", {})}
    doc["tags"] = tags
    return doc


def embedded_schema(schema: Mapping[str, Any], at: str) -> Doc:
    """A source's JSON Schema as a component at ``at``: without its own ``$schema`` and
    ``$id``, and with its local references (``#/...``) made relative to ``at``."""

    def rebase(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: rebase(v) for k, v in node.items() if k not in ("$schema", "$id")}
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#"):
                out["$ref"] = at + ref[1:]
            return out
        if isinstance(node, list):
            return [rebase(v) for v in node]
        return node

    rebased: Doc = rebase(dict(schema))
    rebased.pop("x-alertpipe", None)
    return rebased
