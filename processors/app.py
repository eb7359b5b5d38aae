"""The faust-streaming worker: a thin shell around ``processors.pipeline.process_raw``.

Per batch of raw records: run the pure pipeline, send every output (normalized alerts keyed by
incident key, or the dead letter), and wait until Kafka acknowledged all of them. Only then
does faust ack the batch's events, and faust flushes its producer before committing offsets
(at_least_once). If an output cannot be delivered, the worker exits at once without
committing, so the batch is processed again (same alert_ids) by whoever takes the partition.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from typing import Any, cast

import faust
from prometheus_client import start_http_server

from processors.deadletter import dead_letter_headers
from processors.metrics import WorkerMetrics
from processors.pipeline import RawInput, StageOneResult, process_raw
from processors.routestore import RouteStore
from processors.settings import WorkerSettings

log = logging.getLogger("alertpipe.worker")
EXIT_OUTPUT_NOT_DELIVERED = 75  # sysexits' EX_TEMPFAIL


def create_app(settings: WorkerSettings) -> faust.App:
    bootstrap = settings.kafka.bootstrap_servers
    if not bootstrap:
        raise ValueError("the worker needs KAFKA_BOOTSTRAP_SERVERS")
    topics = settings.kafka.topics
    app = faust.App(
        settings.group,
        broker=[f"kafka://{server.strip()}" for server in bootstrap.split(",")],
        processing_guarantee="at_least_once",  # exactly_once has open bugs (#517, #323, #177)
        store="memory://",
        datadir=str(settings.data_dir),
        web_enabled=False,
        topic_disable_leader=True,
        topic_allow_declare=False,  # our topics exist (alertpipe topics create), with our config
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_max_batch_size=512 * 1024,
    )
    raw = app.topic(
        topics.raw, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
    normalized = app.topic(topics.normalized, key_serializer="raw", value_serializer="raw")
    dead_letters = app.topic(topics.dead_letter, key_serializer="raw", value_serializer="raw")
    routes = RouteStore(bootstrap, topics.routes)
    metrics = WorkerMetrics()

    @app.task  # type: ignore[untyped-decorator]  # faust's decorators are untyped
    async def start_side_services() -> None:
        await routes.start()
        if settings.metrics_port:
            try:
                start_http_server(settings.metrics_port, settings.metrics_host, metrics.registry)
            except OSError as exc:  # metrics matter less than alerts: say so and carry on
                log.error(
                    "no metrics endpoint: %s:%d: %s",
                    settings.metrics_host,
                    settings.metrics_port,
                    exc,
                )
                return
            log.info(
                "metrics on http://%s:%d/metrics", settings.metrics_host, settings.metrics_port
            )

    async def publish(message: Any, result: StageOneResult) -> list[Any]:
        if result.dead_letter is not None:
            metrics.dead_letters.labels(result.source, result.dead_letter.code).inc()
            headers = dead_letter_headers(
                list(message.headers or ()),
                result.dead_letter,
                RawInput(b"", [], message.topic, message.partition, message.offset).ref,
            )
            return [
                await dead_letters.send(
                    key=message.key, value=message.value or b"", headers=headers
                )
            ]
        futures = []
        for alert, encoded in zip(result.alerts, result.encoded, strict=True):
            metrics.alerts_out.labels(alert.source, alert.message_type).inc()
            futures.append(await normalized.send(key=alert.incident_key.encode(), value=encoded))
        return futures

    async def handle(events: Sequence[Any]) -> None:
        started = time.perf_counter()
        futures = []
        oldest_received = None
        for event in events:
            message = event.message
            record = RawInput(
                message.value or b"",
                list(message.headers or ()),
                message.topic,
                message.partition,
                message.offset,
            )
            result = process_raw(record, routes.configs)
            metrics.events_in.labels(result.source).inc()
            if result.envelope is not None:
                received = result.envelope.received_at
                oldest_received = min(received, oldest_received or received)
            futures.extend(await publish(message, result))
        try:
            await asyncio.gather(*futures)
        except Exception:
            log.critical(
                "an output was not acknowledged by Kafka; exiting without committing "
                "so the batch is processed again",
                exc_info=True,
            )
            logging.shutdown()
            os._exit(EXIT_OUTPUT_NOT_DELIVERED)
        metrics.batch_size.observe(len(events))
        metrics.batch_seconds.observe(time.perf_counter() - started)
        if oldest_received is not None:
            metrics.processing_lag_seconds.observe(max(0.0, time.time() - oldest_received / 1000))
        metrics.routes_loaded.set(len(routes.configs))

    @app.agent(raw, concurrency=1)
    async def stage_one(stream: faust.StreamT[bytes]) -> None:
        batches = cast(faust.Stream[bytes], stream).take_events  # StreamT does not declare it
        async for events in batches(settings.batch_size, settings.batch_within_s):
            await routes.wait_caught_up()  # never route with a half-loaded table
            await handle(events)

    return app
