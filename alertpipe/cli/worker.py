"""``alertpipe worker``: the stream processor."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import click

from alertpipe.cli.common import (
    EXIT_KAFKA_UNREACHABLE,
    EXIT_USAGE,
    bootstrap_or_exit,
    fail,
    schemas_or_exit,
    settings_or_exit,
)
from kafkaio.admin import KafkaUnreachable, existing_topics
from kafkaio.settings import SettingsError


@click.command()
@click.option(
    "--loglevel",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="Log level of the worker and of quixstreams (JSON lines on stderr).",
)
def worker(loglevel: str) -> None:
    """Validate, map and route raw webhooks into alerts.normalized (dead letters to
    alerts.dead-letter), collapsing repeats into incidents. Exactly-once by default
    (ALERTPIPE_PROCESSING_GUARANTEE=at-least-once for the lowest latency).

    Run several with the same ALERTPIPE_WORKER_GROUP to share the work; Kafka assigns
    partitions among them. Give each a stable ALERTPIPE_WORKER_INSTANCE_ID (e.g. the pod name)
    so that a restarted worker takes its partitions back at once. SIGTERM commits and stops.
    Metrics and probes: http://127.0.0.1:9464/metrics, /healthz, /readyz
    (ALERTPIPE_WORKER_METRICS_HOST and _PORT; port 0 = off); a port that cannot be bound
    stops the worker at start with one line (exit 2).
    Fixed source schemas in ALERTPIPE_SCHEMA_DIR replace the built-in ones, and
    ALERTPIPE_SOURCES_DIR adds your own source folders (both read at start).
    Exit status 75: the processing loop kept failing; start the worker again."""
    from ingest.logs import configure_json_logging
    from processors.settings import load_worker_settings
    from processors.worker.run import run_worker

    settings = settings_or_exit()
    schemas = schemas_or_exit(settings)  # a bad source stops the worker here, in one line
    bootstrap = bootstrap_or_exit(settings)
    try:
        worker_settings = load_worker_settings({**os.environ, **bootstrap.env()})
    except SettingsError as exc:
        fail(f"bad setting: {exc}", EXIT_USAGE)
    # The worker waits for the maintenance topic as for the routes: an upgraded cluster
    # without it gets this line rather than a worker that never becomes ready.
    needed = [settings.topics.raw, settings.topics.maintenance]
    try:
        found = asyncio.run(existing_topics(bootstrap, needed))
    except KafkaUnreachable as exc:
        fail(str(exc), EXIT_KAFKA_UNREACHABLE)
    for topic in needed:
        if topic not in found:
            fail(f"topic {topic} does not exist: run `alertpipe topics create`")
    worker_settings.data_dir.mkdir(parents=True, exist_ok=True)
    configure_json_logging(getattr(logging, loglevel.upper()))
    sys.exit(run_worker(worker_settings, schemas))
