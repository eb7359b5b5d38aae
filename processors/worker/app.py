"""The quixstreams application of ``alertpipe worker``: its librdkafka settings and how it is
made. Kept apart from ``processors.worker.run`` so that the worker can start following its
routes and maintenance windows before it imports quixstreams (about half a second here), which
shortens a restart's way back to its first output."""

from __future__ import annotations

import uuid
from typing import Any

from quixstreams import Application
from quixstreams.kafka.configuration import ConnectionConfig

from kafkaio.clients import KafkaConnection
from processors.settings import WorkerSettings
from processors.worker.observe import STATS_INTERVAL_MS, LoopReport


def kafka_configs(settings: WorkerSettings, report: LoopReport) -> tuple[dict[str, Any], ...]:
    """librdkafka settings of the loop's consumer and producer. A stable instance id gives
    static group membership (a restarted worker takes its partitions back without a
    rebalance) and a stable transactional id (it fences its predecessor's open transaction
    at once instead of waiting for the transaction timeout); without one, the transactional
    id is ``<group>-<random>``, a new one per loop start. Heartbeat H, a fifth of the
    session: the broker drops a dead member one session after its last beat, i.e. between
    session - H and session after the crash, so a shorter H does not take over sooner (an
    at-least-once member, which learns of the rebalance only from a heartbeat, rejoins up to H
    later; an exactly-once one learns at its next checkpoint)."""
    consumer: dict[str, Any] = {
        "session.timeout.ms": int(settings.session_timeout_s * 1000),
        "heartbeat.interval.ms": int(settings.heartbeat_s * 1000),
        "statistics.interval.ms": STATS_INTERVAL_MS,
        "stats_cb": report.on_stats,
    }
    producer: dict[str, Any] = {
        "transaction.timeout.ms": int(settings.transaction_timeout_s * 1000),
    }
    if settings.instance_id:
        consumer["group.instance.id"] = settings.instance_id
    if settings.exactly_once:
        # Always <group>-...: one prefixed ACL on "<group>-" covers every worker of the group
        # (kafkaio.acls). Without an instance id, a random suffix, as quixstreams' own default.
        suffix = settings.instance_id or uuid.uuid4().hex
        producer["transactional.id"] = f"{settings.group}-{suffix}"
    return consumer, producer


def broker_address(kafka: KafkaConnection) -> ConnectionConfig:
    """quixstreams' connection settings (its consumer, producer and admin client all use
    them): the same TLS and SASL settings as every aiokafka client, as librdkafka keys."""
    return ConnectionConfig.from_librdkafka_dict(kafka.librdkafka_config())


def create_application(settings: WorkerSettings, report: LoopReport) -> Application:
    bootstrap = settings.kafka.bootstrap_servers
    if not bootstrap:
        raise ValueError("the worker needs KAFKA_BOOTSTRAP_SERVERS")
    consumer, producer = kafka_configs(settings, report)
    return Application(
        broker_address=broker_address(settings.kafka.connection(bootstrap)),
        consumer_group=settings.group,
        auto_offset_reset="earliest",  # a new group starts at the oldest raw record kept
        processing_guarantee=settings.processing_guarantee,
        commit_interval=settings.commit_interval_s,
        # An idle poll delays the next checkpoint by up to this: keep it under the interval.
        consumer_poll_timeout=min(settings.commit_interval_s, 0.1),
        consumer_extra_config=consumer,
        producer_extra_config=producer,
        state_dir=settings.data_dir,
        loglevel=None,  # our JSON logs (alertpipe.cli.worker) carry quixstreams' lines too
    )
