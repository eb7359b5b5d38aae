"""``alertpipe kafka start|stop|status``: the local single-node broker."""

from __future__ import annotations

import json
from pathlib import Path

import click

from alertpipe.cli.common import fail
from alertpipe.kafkajars import LocalKafkaError
from alertpipe.localkafka import LocalBroker

state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the broker keeps config, data, logs and broker.json "
    "[default: .cache/kafka/broker in the checkout].",
)


@click.group()
def kafka() -> None:
    """Run a local single-node Kafka (KRaft) broker from Maven-resolved jars.

    Needs Java 17+ and Maven the first time (jars are cached in .cache/kafka). Listens on
    127.0.0.1 only. Not for production: point KAFKA_BOOTSTRAP_SERVERS at a real cluster.
    """


@kafka.command()
@state_dir_option
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Client port [default: the previous port if free, else any free port].",
)
@click.option("--heap", default="512m", show_default=True, help="JVM heap (-Xms and -Xmx).")
@click.option(
    "--timeout", type=float, default=90.0, show_default=True, help="Seconds to wait for ready."
)
def start(state_dir: Path | None, port: int | None, heap: str, timeout: float) -> None:
    """Start the broker in the background (idempotent) and print its bootstrap address.

    Formats storage on first start, repairs a stale PID file or a half-formatted data dir, and
    returns once the broker answers metadata requests. The last line printed is the address.
    """
    broker = LocalBroker(state_dir, heap=heap, echo=lambda m: click.echo(m, err=True))
    try:
        status = broker.start(port=port, timeout=timeout)
    except LocalKafkaError as exc:
        fail(str(exc))
    click.echo(status.bootstrap_servers)


@kafka.command()
@state_dir_option
@click.option(
    "--timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait after SIGTERM before SIGKILL.",
)
def stop(state_dir: Path | None, timeout: float) -> None:
    """Stop the broker by its PID (SIGTERM, then SIGKILL). Harmless when it is not running."""
    broker = LocalBroker(state_dir, echo=lambda m: click.echo(m, err=True))
    try:
        broker.stop(timeout=timeout)
    except LocalKafkaError as exc:
        fail(str(exc))


@kafka.command()
@state_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def status(state_dir: Path | None, as_json: bool) -> None:
    """Say whether the broker runs and print its bootstrap address. Exit 0 either way."""
    current = LocalBroker(state_dir, echo=lambda _: None).status()
    if as_json:
        click.echo(json.dumps(current.to_json()))
    elif current.running:
        click.echo(f"running at {current.bootstrap_servers} (pid {current.pid})")
    else:
        click.echo(f"not running (state dir {current.state_dir})")
