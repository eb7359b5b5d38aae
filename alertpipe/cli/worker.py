"""``alertpipe worker``: the stream processors."""

from __future__ import annotations

import asyncio
import dataclasses
import os

import click

from alertpipe.cli.common import (
    EXIT_KAFKA_UNREACHABLE,
    EXIT_USAGE,
    bootstrap_or_exit,
    fail,
    schemas_or_exit,
    settings_or_exit,
)
from alertpipe.kafkaprobe import KafkaUnreachable
from alertpipe.settings import SettingsError
from alertpipe.topics import partition_count


@click.command()
@click.option(
    "--loglevel",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="Log level of the worker and of faust.",
)
def worker(loglevel: str) -> None:
    """Validate, map and route raw webhooks into alerts.normalized (dead letters to
    alerts.dead-letter). Run several with the same ALERTPIPE_WORKER_GROUP to share the work;
    Kafka assigns partitions among them. SIGTERM stops after the current batch.
    Metrics and probes: http://127.0.0.1:9464/metrics, /healthz, /readyz
    (ALERTPIPE_WORKER_METRICS_HOST and _PORT; port 0 = off). Fixed source schemas in
    ALERTPIPE_SCHEMA_DIR replace the built-in ones (read at start)."""
    from faust.worker import Worker

    from processors.app import create_app
    from processors.settings import load_worker_settings

    settings = settings_or_exit()
    schemas_or_exit(settings)  # a bad fixed schema stops the worker here, in one line
    bootstrap = bootstrap_or_exit(settings)
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    try:
        worker_settings = load_worker_settings()
    except SettingsError as exc:
        fail(f"bad setting: {exc}", EXIT_USAGE)
    # The incident table is co-partitioned with the stage-1 topic: take its real count.
    try:
        partitions = asyncio.run(partition_count(bootstrap, settings.topics.stage1))
    except KafkaUnreachable as exc:
        fail(str(exc), EXIT_KAFKA_UNREACHABLE)
    if not partitions:
        fail(f"topic {settings.topics.stage1} does not exist: run `alertpipe topics create`")
    topics = dataclasses.replace(worker_settings.kafka.topics, partitions=partitions)
    worker_settings = dataclasses.replace(
        worker_settings, kafka=dataclasses.replace(worker_settings.kafka, topics=topics)
    )
    worker_settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(worker_settings)
    Worker(app, loglevel=loglevel.upper()).execute_from_commandline()
