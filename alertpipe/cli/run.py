"""``alertpipe run``: the whole pipeline on this machine, in the foreground (``make run``)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import shutil
import sys
from pathlib import Path

import click

from alertpipe.cli.common import EXIT_KAFKA_UNREACHABLE, EXIT_USAGE, fail, settings_or_exit
from alertpipe.cli.topics import all_topic_specs, describe_outcomes
from alertpipe.devkeys import (
    DEV_ORG,
    ensure_dev_keys,
    ensure_dev_routes,
    load_dev_keys,
    routes_summary,
    save_dev_keys,
)
from alertpipe.devrun import Service, supervise
from alertpipe.localbroker.broker import LocalBroker
from alertpipe.localbroker.choice import BrokerKind, choose_broker
from alertpipe.localbroker.jars import CACHE_DIR, LocalKafkaError
from alertpipe.ports import port_is_free
from kafkaio.admin import KafkaUnreachable
from kafkaio.settings import SettingsError
from kafkaio.topics import TopicCreationError, ensure_topics
from processors.settings import load_worker_settings
from schemas.registry import catalog


def pipeline_services(ingress_port: int) -> list[Service]:
    """The processes ``make run`` starts once Kafka and the topics are ready (the console's
    port and token come in its environment: ``console_env``)."""
    me = [sys.executable, "-m", "alertpipe.cli"]
    return [
        Service("ingress", [*me, "ingress", "--port", str(ingress_port)]),
        Service("worker", [*me, "worker"]),
        Service("console", [*me, "console"]),
    ]


def console_env(
    token: str, console_port: int, ingress_url: str, metrics: tuple[str, int]
) -> dict[str, str]:
    """The console's settings for ``make run``: loopback, the ingress it posts test alerts
    to, the worker's probes (none when its metrics port is off)."""
    host, port = metrics
    return {
        "ALERTPIPE_CONSOLE_TOKEN": token,
        "ALERTPIPE_CONSOLE_HOST": "127.0.0.1",
        "ALERTPIPE_CONSOLE_PORT": str(console_port),
        "ALERTPIPE_CONSOLE_INGRESS_URL": ingress_url,
        "ALERTPIPE_CONSOLE_WORKER_URL": f"http://{host}:{port}" if port else "",
    }


def worker_metrics_address() -> tuple[str, int]:
    """(host, port) of the worker's metrics endpoint; port 0: none."""
    try:
        worker = load_worker_settings()
    except SettingsError as exc:
        fail(f"bad setting: {exc}", EXIT_USAGE)
    return worker.metrics_host, worker.metrics_port


def check_ports(ingress_port: int, metrics: tuple[str, int], console_port: int) -> None:
    """Before anything is started or printed: one line naming a port that is taken."""
    for port, what, option in ((ingress_port, "ingress", "--ingress-port"),
                               (console_port, "console", "--console-port")):  # fmt: skip
        if not port_is_free(port):
            fail(
                f"port {port} (the {what}) is in use: stop what listens there, "
                f"or choose another with `alertpipe run {option} N`",
                EXIT_USAGE,
            )
    host, port = metrics
    if port and not port_is_free(port, host):
        fail(
            f"port {port} (the worker's metrics) is in use on {host}: stop what listens there, "
            "or set ALERTPIPE_WORKER_METRICS_PORT (0 for none)",
            EXIT_USAGE,
        )


def command_name() -> str:
    """How to call alertpipe from another terminal: its name when on PATH, else its path."""
    here = Path(sys.executable).parent / "alertpipe"
    if shutil.which("alertpipe") == str(here):
        return "alertpipe"
    try:
        return str(here.relative_to(Path.cwd()))
    except ValueError:
        return str(here)


def where_to_look(base_url: str, metrics: tuple[str, int], commands: list[str]) -> list[str]:
    """The last lines ``make run`` prints before the processes' logs."""
    me = command_name()
    host, port = metrics
    worker = f", http://{host}:{port}/metrics (worker)" if port else ""
    watch = [f"`{me} tail -f` (alerts as they are delivered)"]
    if "incidents" in commands:
        watch.append(f"`{me} incidents list` (open incidents)")
    return [
        f"Metrics: {base_url}/metrics (ingress){worker}.",
        f"In another terminal: {' and '.join(watch)}.",
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
@click.option("--console-port", type=click.IntRange(1, 65535), default=8090, show_default=True)
def run(
    keep_kafka: bool, kafka_state_dir: Path | None, ingress_port: int, console_port: int
) -> None:
    """Start Kafka (unless KAFKA_BOOTSTRAP_SERVERS is set), create the topics (those of
    `alertpipe topics create`, including the internal topics of ALERTPIPE_WORKER_GROUP), and
    run the pipeline's processes in the foreground. Ctrl-C stops everything this command
    started.

    The dev org gets a service URL per source, the routing key ops (team operations) and a
    default route (team noc) unless it has routes already. The console gets a new token
    (ALERTPIPE_CONSOLE_TOKEN when set) and its URL with it is printed. The ingress and
    console ports and the worker's metrics port (ALERTPIPE_WORKER_METRICS_PORT) are checked
    first."""
    settings = settings_or_exit()
    metrics = worker_metrics_address()
    check_ports(ingress_port, metrics, console_port)
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
        routes = asyncio.run(ensure_dev_routes(kafka, settings.topics.routes))
        click.echo(f"Service URLs of org {DEV_ORG!r} (replace $routing_key, e.g. with ops):")
        width = max(map(len, urls), default=0)
        for name, url in urls.items():
            click.echo(f"  {name:<{width}} {url}")
        click.echo(f"Routes of org {DEV_ORG!r}: {routes_summary(routes)}.")
        services = pipeline_services(ingress_port)
        token = os.environ.get("ALERTPIPE_CONSOLE_TOKEN") or secrets.token_urlsafe(24)
        env = {**os.environ, **kafka.env(), **console_env(token, console_port, base_url, metrics)}
        click.echo(f"Kafka: {bootstrap}. Ingress: {base_url}.")
        click.echo(f"Console: http://127.0.0.1:{console_port}/?token={token}")
        root = click.get_current_context().find_root().command
        names = list(root.commands) if isinstance(root, click.Group) else []
        for line in where_to_look(base_url, metrics, names):
            click.echo(line)
        click.echo("Press Ctrl-C to stop.")
        code = asyncio.run(supervise(services, env))
    finally:
        if started is not None:
            click.echo("Stopping the Kafka broker this command started...")
            started.stop()
    sys.exit(code)
