"""``alertpipe ingress``: the webhook receiver."""

from __future__ import annotations

from dataclasses import replace

import click

from alertpipe.cli.common import (
    EXIT_USAGE,
    bootstrap_or_exit,
    fail,
    schemas_or_exit,
    settings_or_exit,
)
from alertpipe.ports import port_is_free
from kafkaio.settings import SettingsError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes; each owns one Kafka producer.",
)
@click.option(
    "--null-sink",
    is_flag=True,
    help="BENCHMARKS ONLY: answer without writing to Kafka (nothing is durable).",
)
def ingress(host: str, port: int, workers: int, null_sink: bool) -> None:
    """Receive webhooks on the service URLs and record each body verbatim in Kafka.

    Answers 2xx only after Kafka acknowledged the record (acks=all); 503 with Retry-After when
    Kafka does not answer in time. Limits and timeouts come from the ALERTPIPE_* settings.
    SIGTERM stops accepting, finishes in-flight requests, flushes, and exits.
    """
    from ingest.server import serve
    from ingest.settings import load_ingress_settings

    if port and not port_is_free(port, host):
        fail(
            f"port {port} is in use on {host}: stop what listens there, or choose another "
            "with `alertpipe ingress --port N`",
            EXIT_USAGE,
        )
    settings = settings_or_exit()
    schemas_or_exit(settings)  # a bad source stops the ingress here, in one line
    try:
        loaded = load_ingress_settings()
    except SettingsError as exc:
        fail(f"bad setting: {exc}", EXIT_USAGE)
    found = bootstrap_or_exit(settings)
    kafka = replace(settings, bootstrap_servers=found.bootstrap_servers, security=found.security)
    serve(
        host, port, workers, replace(loaded, kafka=kafka, sink="null" if null_sink else loaded.sink)
    )
