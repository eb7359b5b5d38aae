"""``alertpipe incidents ack|resolve``: an operator's acknowledgement or resolution as one raw
record of the generic (VictorOps REST) source, exactly what the ingress writes for a
``message_type`` ACKNOWLEDGEMENT or RECOVERY POSTed with an ``entity_id``. So it is recorded in
the raw topic, decided by the worker's state machine, emitted, replayable and explainable like
any alert; nothing writes to the incident state directly.

The record differs from a POSTed one only where no HTTP request exists: ``key_id`` is
``OPERATOR_KEY_ID`` (no integration key was used), ``remote_addr`` is empty and ``user_agent``
names the CLI and the operator. The body carries no ``timestamp``: its event time is the
``received_at`` the CLI stamps, so it is never older than the incident's last change (``late``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from aiokafka.errors import KafkaError

from kafkaio.admin import KafkaUnreachable, start_within
from kafkaio.clients import KafkaTarget, new_producer
from processors.incidents import Decision, IncidentPolicy, IncidentState
from processors.pipeline import RawInput
from processors.routing import RoutingConfig
from processors.stage_one import stage_one
from processors.stage_two import decide_alert
from processors.validate import SchemaSet
from schemas.raw import RawHeaders, raw_record_key

OPERATOR_KEY_ID = "operator-cli"  # the raw record's key_id: written by `alertpipe incidents`
SOURCE = "generic"
Action = Literal["ack", "resolve"]
MESSAGE_TYPES: dict[Action, str] = {"ack": "ACKNOWLEDGEMENT", "resolve": "RECOVERY"}


@dataclass(frozen=True)
class OperatorEvent:
    action: Action
    org: str
    entity_id: str
    by: str  # who (ack_author)
    message: str | None
    routing_key: str  # as if received; "" routes to the org's default route
    received_at: int  # epoch ms
    request_id: str

    def body(self) -> bytes:
        verb = "acknowledged" if self.action == "ack" else "resolved"
        data: dict[str, str] = {
            "message_type": MESSAGE_TYPES[self.action],
            "entity_id": self.entity_id,
            "state_message": self.message or f"{verb} by {self.by} (alertpipe incidents)",
            "monitoring_tool": "alertpipe incidents",
            "ack_author": self.by,
        }
        if self.message:
            data["ack_msg"] = self.message
        return orjson.dumps(data)

    def headers(self) -> list[tuple[str, bytes]]:
        return RawHeaders(
            source=SOURCE,
            org=self.org,
            key_id=OPERATOR_KEY_ID,
            routing_key=self.routing_key,
            content_type="application/json",
            received_at=self.received_at,
            request_id=self.request_id,
            remote_addr="",
            user_agent=f"alertpipe-incidents ({self.by})",
            entity_id=self.entity_id,
        ).to_kafka()

    def key(self) -> bytes:
        return raw_record_key(self.org, self.routing_key)


def operator_event(
    action: Action,
    org: str,
    entity_id: str,
    by: str,
    message: str | None,
    routing_key: str,
    now_ms: int,
) -> OperatorEvent:
    return OperatorEvent(action, org, entity_id, by, message, routing_key, now_ms, uuid.uuid4().hex)


@dataclass(frozen=True)
class Preview:
    """What the worker's own functions make of the event against the state held now."""

    decision: Decision | None  # None: stage 1 refused it (dead_letter says why)
    alert: dict[str, Any] | None  # the alert stage 1 maps, as JSON data
    dead_letter: str | None = None


def preview(
    event: OperatorEvent,
    state: IncidentState | None,
    raw_topic: str,
    routes: Mapping[str, RoutingConfig],
    schemas: SchemaSet | None,
    policy: IncidentPolicy,
) -> Preview:
    """Stage 1 and the incident decision for ``event``, as the worker would run them now (at
    an unknown position: the alert_id printed is not the one the worker will derive)."""
    raw = RawInput(event.body(), event.headers(), raw_topic, 0, 0)
    result, outputs = stage_one(raw, event.key(), routes, schemas)
    if result.dead_letter is not None:
        letter = result.dead_letter
        return Preview(None, None, f"{letter.code}: {letter.message}")
    out = outputs[0]
    decided = decide_alert(state, out.value, out.headers, event.received_at, policy)
    return Preview(decided.decision, orjson.loads(out.value))


async def record_event(
    kafka: KafkaTarget, raw_topic: str, event: OperatorEvent, timeout: float
) -> tuple[int, int]:
    """Write the raw record (acks=all, idempotent); its (partition, offset)."""
    producer = new_producer(
        kafka, acks="all", enable_idempotence=True, request_timeout_ms=int(timeout * 1000)
    )
    await start_within(producer, producer.stop, kafka, timeout)
    try:
        async with asyncio.timeout(timeout):
            meta = await producer.send_and_wait(
                raw_topic, value=event.body(), key=event.key(), headers=event.headers()
            )
    except KafkaError as exc:
        raise KafkaUnreachable(f"Kafka did not take the record: {exc!r}") from exc
    finally:
        await producer.stop()
    return int(meta.partition), int(meta.offset)
