"""The faust-streaming worker: thin shells around the pure stages.

Stage 1 (``stage_one``): raw records -> ``processors.pipeline.process_raw`` -> alerts re-keyed
by incident key to the internal stage-1 topic (with their fingerprint), or the dead letter.
Stage 2 (``stage_two``): incident decisions against a RocksDB table with a compacted changelog
(``processors.stage_two`` documents the order of output, state and commit).

Per batch, outputs are awaited until Kafka acknowledged them before faust acks the events (it
flushes its producer before committing offsets: at_least_once). If an output cannot be
delivered, the worker exits at once without committing; the batch is processed again, with
the same alert_ids, by whoever takes the partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
import weakref
from collections.abc import Coroutine, Sequence
from typing import Any, NoReturn, cast

import faust
from faust.streams import _current_event as faust_current_event

from processors.durable_table import DurableTable
from processors.freeze import FreezeDetector
from processors.incidents import decode_state, is_expired
from processors.metrics import WorkerMetrics
from processors.observe import SAMPLE_INTERVAL_S, WorkerObserver
from processors.probes import start_endpoint
from processors.rebalance import WorkerApp, of_generation, settled
from processors.routestore import RouteStore
from processors.settings import WorkerSettings, incident_policy
from processors.stage_one import plan_stage_one
from processors.stage_two import EXPIRE_HEADER, decide_batch, write_states
from processors.validate import schema_set

log = logging.getLogger("alertpipe.worker")
EXIT_REDO = 75  # sysexits' EX_TEMPFAIL
RAW: dict[str, Any] = {
    "key_type": bytes,
    "value_type": bytes,
    "key_serializer": "raw",
    "value_serializer": "raw",
}


def exit_without_commit(why: str, exc_info: bool = False) -> NoReturn:
    """Leave at once: no state written, no offset committed; the batch is processed again,
    with the same alert_ids, by whoever takes the partition (a supervisor restarts us)."""
    log.critical(
        "%s; exiting without committing so the batch is processed again", why, exc_info=exc_info
    )
    logging.shutdown()
    os._exit(EXIT_REDO)


def leave_after_freeze(app: faust.App) -> NoReturn:
    """Frozen mid-batch, maybe evicted: this worker's local copy of the table (and the changelog
    offsets it recorded) may now be behind what the new owner wrote, so it is dropped; the
    restarted worker rebuilds it from the changelog, where recovery skips stale states."""
    shutil.rmtree(app.conf.tabledir, ignore_errors=True)
    exit_without_commit("this worker was frozen mid-batch and may have been evicted")


async def delivered_or_exit(futures: Sequence[Any]) -> None:
    try:
        await asyncio.gather(*futures)
    except Exception:
        exit_without_commit("an output was not acknowledged by Kafka", exc_info=True)


async def run_to_completion(batch: Coroutine[Any, Any, None]) -> None:
    """Finish a batch even when the agent is cancelled (a shutdown). faust's ``take_events``
    acknowledges a batch's events when the agent leaves its loop, finished or not, so leaving
    mid-batch would commit the offsets of work never done (found by the rebalance test)."""
    task = asyncio.ensure_future(batch)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        while not task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        raise


def create_app(settings: WorkerSettings) -> faust.App:
    bootstrap = settings.kafka.bootstrap_servers
    if not bootstrap:
        raise ValueError("the worker needs KAFKA_BOOTSTRAP_SERVERS")
    topics = settings.kafka.topics
    app = WorkerApp(  # faust.App with a consumer safe across rebalances (its module)
        settings.group,
        broker=[f"kafka://{server.strip()}" for server in bootstrap.split(",")],
        processing_guarantee="at_least_once",  # exactly_once has open bugs (#517, #323, #177)
        store="rocksdb://",  # backed by rocksdict (the faust-streaming[rocksdict] extra)
        datadir=str(settings.data_dir),
        web_enabled=False,
        topic_disable_leader=True,
        # faust creates the table's changelog (compacted); ours exist already and are kept.
        topic_allow_declare=True,
        topic_partitions=topics.partitions,
        topic_replication_factor=topics.replication_factor,
        table_standby_replicas=settings.standby_replicas,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 4),
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_max_batch_size=512 * 1024,
        Table=DurableTable,  # changelog writes that stage 2 can await (see its module)
    )
    raw = app.topic(topics.raw, **RAW)
    stage1 = app.topic(topics.stage1, partitions=topics.partitions, **RAW)
    # The normalized and dead-letter topics are only written, straight through the producer
    # (a faust Topic.send per record cost more than the stage itself in the profile).
    # bytes keys and values: faust stores and logs them raw (we own the codec).
    incidents = app.Table(
        "incidents", default=None, partitions=topics.partitions, key_type=bytes, value_type=bytes
    )
    policy = incident_policy(settings)
    routes = RouteStore(bootstrap, topics.routes)
    schemas = schema_set(settings.kafka.schema_dir)  # fixed schemas, if any, in front
    metrics = WorkerMetrics()
    # frozen for half the session timeout: possibly evicted (processors.freeze)
    freeze = FreezeDetector(threshold_s=settings.session_timeout_s / 2)

    @app.task  # type: ignore[untyped-decorator]
    async def watch_for_freezes() -> None:
        await freeze.run()

    @app.on_partitions_assigned.connect
    async def on_assigned(_sender: Any, /, *_args: Any, signal: Any, **_kwargs: Any) -> None:
        freeze.assigned()

    # Readiness, consumer lag and table size, sampled (processors.observe).
    observer = WorkerObserver(
        app, incidents, routes, metrics, bootstrap, (topics.raw, topics.stage1)
    )

    @app.task  # type: ignore[untyped-decorator]  # faust's decorators are untyped
    async def start_side_services() -> None:
        await routes.start()
        if settings.metrics_port:
            health = observer.health
            start_endpoint(settings.metrics_host, settings.metrics_port, metrics.registry, health)

    @app.timer(interval=SAMPLE_INTERVAL_S)  # type: ignore[untyped-decorator]
    async def observe() -> None:
        await observer.sample()

    async def stage_one_batch(events: Sequence[Any]) -> None:
        started = time.perf_counter()
        batch = plan_stage_one([event.message for event in events], routes.configs, schemas)
        producer = await app.maybe_start_producer()
        futures = [
            await producer.send(
                topics.dead_letter if out.dead_letter else topics.stage1,
                out.key,
                out.value,
                None,
                None,
                out.headers,
            )
            for out in batch.outputs
        ]
        await delivered_or_exit(futures)
        metrics.count_stage_one(batch.events_in, batch.alerts_out, batch.dead_letters)
        metrics.batch_size.observe(len(events))
        metrics.batch_seconds.observe(time.perf_counter() - started)
        if batch.oldest_received_at is not None:
            lag = time.time() - batch.oldest_received_at / 1000
            metrics.processing_lag_seconds.observe(max(0.0, lag))
        metrics.routes_loaded.set(len(routes.configs))

    @app.agent(raw, concurrency=1)
    async def stage_one(stream: faust.StreamT[bytes]) -> None:
        batches = cast(faust.Stream[bytes], stream).take_events  # StreamT does not declare it
        async for fetched in batches(settings.batch_size, settings.batch_within_s):
            events = of_generation(fetched, app.consumer_generation_id)  # processors.rebalance
            await routes.wait_caught_up()  # never route with a half-loaded table
            if events:
                await run_to_completion(stage_one_batch(events))

    async def send_normalized(key: bytes, value: bytes) -> Any:
        producer = await app.maybe_start_producer()
        return await producer.send(topics.normalized, key, value, None, None, None)

    # concurrency 1: the agent that writes a table must be its only writer (faust's rule).
    @app.agent(stage1, concurrency=1)
    async def stage_two(stream: faust.StreamT[bytes]) -> None:
        # faust reads and writes a table in the context of "the current event"; in a batch we
        # set it per event so each key uses its own partition. Only the ContextVar that tables
        # read is set (in this task): Stream._set_current_event would also overwrite the
        # stream's attribute that take_events pairs with the next buffered value, which
        # silently skipped and doubled events (found by the crash test).
        def set_event(event: Any) -> None:
            faust_current_event.set(weakref.ref(event))

        async def stage_two_batch(events: Sequence[Any], generation: int) -> None:
            table = cast(Any, incidents)
            futures, staged = await decide_batch(
                events, table, set_event, send_normalized, policy, metrics
            )
            await delivered_or_exit(futures)
            if freeze.frozen_since_assignment():
                leave_after_freeze(app)
            if not settled(app, generation):
                # A rebalance (or the stop) began mid-batch: these partitions may move. No
                # state is written and no offset committed (processors.rebalance): the events
                # are decided again by whoever owns them next, repeating the alerts sent.
                log.info(
                    "rebalance or stop mid-batch: %d states left to the next owner", len(staged)
                )
                return
            write_states(staged, table, set_event)
            faust_current_event.set(None)
            # the new states are in the changelog before faust may commit these offsets
            await delivered_or_exit(table.take_unconfirmed())
            if freeze.frozen_since_assignment():  # they may have landed after a new owner's
                leave_after_freeze(app)

        batches = cast(faust.Stream[bytes], stream).take_events
        async for fetched in batches(settings.batch_size, settings.batch_within_s):
            generation = app.consumer_generation_id
            events = of_generation(fetched, generation)  # processors.rebalance
            if events:
                await run_to_completion(stage_two_batch(events, generation))

    @app.timer(interval=settings.sweep_interval_s)  # type: ignore[untyped-decorator]
    async def sweep_expired() -> None:
        """Ask the owner of each expired incident to drop it (table writes must happen in the
        stage-2 agent, in the context of an event of the key's partition)."""
        now = int(time.time() * 1000)
        expired = []
        for n, (key, value) in enumerate(list(cast(Any, incidents).items())):
            if value is not None and is_expired(decode_state(value), now, policy):
                expired.append(key)
            if n % 1000 == 999:
                await asyncio.sleep(0)  # keep the event loop responsive on large tables
        for key in expired:
            await stage1.send(key=key, value=b"", headers=[(EXPIRE_HEADER, b"1")])
        if expired:
            log.info("asked to expire %d incident states", len(expired))

    return app
