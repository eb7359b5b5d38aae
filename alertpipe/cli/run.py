"""``alertpipe run``: the whole pipeline on this machine, in the foreground (``make run``)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from pathlib import Path

import click

from alertpipe.cli.common import EXIT_KAFKA_UNREACHABLE, fail, settings_or_exit
from alertpipe.cli.topics import all_topic_specs, describe_outcomes
from alertpipe.devkeys import DEV_ORG, ensure_dev_keys, load_dev_keys, save_dev_keys
from alertpipe.devrun import Service, supervise
from alertpipe.localbroker.broker import LocalBroker
from alertpipe.localbroker.choice import BrokerKind, choose_broker
from alertpipe.localbroker.jars import CACHE_DIR, LocalKafkaError
from kafkaio.admin import KafkaUnreachable
from kafkaio.topics import TopicCreationError, ensure_topics
from schemas.registry import catalog


def pipeline_services(ingress_port: int) -> list[Service]:
    """The processes ``make run`` starts once Kafka and the topics are ready."""
    me = [sys.executable, "-m", "alertpipe.cli"]
    return [
        Service("ingress", [*me, "ingress", "--port", str(ingress_port)]),
        Service("worker", [*me, "worker"]),
    ]


@click.command()
@click.option(
    "--keep-kafka", is_flag=True, help="Leave a broker this command started running on exit."
)
@click.option(
    "--kafka-state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="State dir of the local broker [default: .cache/kafka/broker].",
)
@click.option("--ingress-port", type=click.IntRange(1, 65535), default=8080, show_default=True)
def run(keep_kafka: bool, kafka_state_dir: Path | None, ingress_port: int) -> None:
    """Start Kafka (unless KAFKA_BOOTSTRAP_SERVERS is set), create the topics (those of
    `alertpipe topics create`, including the internal topics of ALERTPIPE_WORKER_GROUP), and
    run the pipeline's processes in the foreground. Ctrl-C stops everything this command
    started."""
    settings = settings_or_exit()
    specs = all_topic_specs(settings)
    choice = choose_broker(os.environ, "run", lambda: False)
    started: LocalBroker | None = None
    if choice.kind is BrokerKind.EXTERNAL and choice.bootstrap_servers:
        bootstrap = choice.bootstrap_servers
        click.echo(f"Using Kafka at {bootstrap} ({choice.reason}).")
        digest = hashlib.sha256(bootstrap.encode()).hexdigest()[:8]
        keys_file = CACHE_DIR / f"dev-integrations-{digest}.json"
    else:
        broker = LocalBroker(kafka_state_dir)
        already = broker.status().running
        try:
            status = broker.start()
        except LocalKafkaError as exc:
            fail(str(exc))
        assert status.bootstrap_servers is not None
        bootstrap = status.bootstrap_servers
        started = None if already or keep_kafka else broker
        keys_file = broker.layout.state_dir / "dev-integrations.json"
    kafka = settings.connection(bootstrap)
    if choice.kind is not BrokerKind.EXTERNAL and settings.security.protocol == "PLAINTEXT":
        local = LocalBroker(kafka_state_dir, echo=lambda _: None)
        state = local.read_state()
        if state is not None and state.security != "plaintext":
            kafka = local.client(state)  # the local broker's own TLS and SCRAM settings
    try:
        try:
            outcomes = asyncio.run(ensure_topics(kafka, specs))
        except KafkaUnreachable as exc:
            fail(str(exc), EXIT_KAFKA_UNREACHABLE)
        except TopicCreationError as exc:
            fail(str(exc))
        for line in describe_outcomes(outcomes):
            click.echo(line)
        base_url = f"http://127.0.0.1:{ingress_port}"
        urls, keys = asyncio.run(
            ensure_dev_keys(
                kafka,
                settings.topics.integrations,
                catalog(settings.sources_dir),
                load_dev_keys(keys_file),
                base_url,
            )
        )
        save_dev_keys(keys_file, keys)
        click.echo(f"Service URLs of org {DEV_ORG!r} (replace $routing_key):")
        for name, url in urls.items():
            click.echo(f"  {name:<13} {url}")
        services = pipeline_services(ingress_port)
        env = {**os.environ, **kafka.env()}
        click.echo(f"Kafka: {bootstrap}. Ingress: {base_url}. Press Ctrl-C to stop.")
        code = asyncio.run(supervise(services, env))
    finally:
        if started is not None:
            click.echo("Stopping the Kafka broker this command started...")
            started.stop()
    sys.exit(code)
