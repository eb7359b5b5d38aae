"""``alertpipe worker``: the stream processors."""

from __future__ import annotations

import os

import click

from alertpipe.cli.common import EXIT_USAGE, bootstrap_or_exit, fail, settings_or_exit
from alertpipe.settings import SettingsError


@click.command()
@click.option(
    "--loglevel",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
def worker(loglevel: str) -> None:
    """Validate, map and route raw webhooks into alerts.normalized (dead letters to
    alerts.dead-letter). Run several with the same ALERTPIPE_WORKER_GROUP to share the work;
    Kafka assigns partitions among them. SIGTERM stops after the current batch.
    Metrics: http://127.0.0.1:9464/metrics (ALERTPIPE_WORKER_METRICS_PORT, 0 = off)."""
    from faust.worker import Worker

    from processors.app import create_app
    from processors.settings import load_worker_settings

    settings = settings_or_exit()
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap_or_exit(settings)
    try:
        worker_settings = load_worker_settings()
    except SettingsError as exc:
        fail(f"bad setting: {exc}", EXIT_USAGE)
    worker_settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(worker_settings)
    Worker(app, loglevel=loglevel.upper()).execute_from_commandline()
