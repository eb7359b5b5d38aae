"""``alertpipe kafka start|stop|status``: the local broker, or a local cluster of several."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import click

from alertpipe.cli.common import EXIT_USAGE, fail
from alertpipe.cli.group import CommandGroup
from alertpipe.cli.kafka_acls import acls
from alertpipe.localbroker.broker import LocalBroker
from alertpipe.localbroker.cluster import LocalCluster, default_cluster_dir
from alertpipe.localbroker.jars import LocalKafkaError
from alertpipe.localbroker.secured import MODES

state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the broker keeps config, data, logs and broker.json "
    "[default: .cache/kafka/broker, or .cache/kafka/cluster with --brokers > 1].",
)
brokers_option = click.option(
    "--brokers",
    type=click.IntRange(1, 9),
    default=1,
    show_default=True,
    help="1: the single broker; more: a KRaft cluster of that many brokers (each also a "
    "controller), replication factor and min.insync.replicas = brokers - 1 by default.",
)


def _echo(message: str) -> None:
    click.echo(message, err=True)


def _cluster(state_dir: Path | None, brokers: int, heap: str | None = None) -> LocalCluster:
    return LocalCluster(
        state_dir or default_cluster_dir(), size=brokers, heap=heap or "384m", echo=_echo
    )


@click.group(cls=CommandGroup)
def kafka() -> None:
    """Run a local Kafka (KRaft) broker, or a cluster of several, from Maven-resolved jars.

    Needs Java 17+ and Maven the first time (jars are cached in .cache/kafka). Listens on
    127.0.0.1 only. Not for production: point KAFKA_BOOTSTRAP_SERVERS at a real cluster.
    """


@kafka.command()
@state_dir_option
@brokers_option
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Client port of the single broker [default: the previous port if free, else any].",
)
@click.option(
    "--heap", default=None, help="JVM heap per broker (-Xms and -Xmx) [default: 512m; 384m each "
    "in a cluster].",
)  # fmt: skip
@click.option(
    "--timeout", type=float, default=180.0, show_default=True, help="Seconds to wait for ready."
)
@click.option(
    "--security",
    type=click.Choice(MODES),
    default=None,
    help="plaintext; sasl_ssl: TLS (a CA and certificate made in the state dir) and SASL "
    "SCRAM-SHA-256/512 or PLAIN for user alertpipe; or ssl: mutual TLS, a client certificate "
    "signed by the same CA required (one made in the state dir). Secured, it prints the client "
    "settings as KEY=value lines (also in <state dir>/client.env) [default: the state dir's "
    "mode, plaintext if new].",
)
@click.option(
    "--acls",
    "authorizer",
    is_flag=True,
    help="With --security sasl_ssl: Kafka's ACL authorizer; user alertpipe is a super user, "
    "any other needs ACLs (`alertpipe kafka user`, `alertpipe kafka acls --apply`). For this "
    "start only; the ACLs stay.",
)
def start(
    state_dir: Path | None,
    brokers: int,
    port: int | None,
    heap: str | None,
    timeout: float,
    security: str | None,
    authorizer: bool,
) -> None:
    """Start the broker(s) in the background (idempotent) and print the bootstrap address.

    Formats storage on first start, repairs a stale PID file or a half-formatted data dir, and
    returns once every broker answers metadata requests. With --brokers N, nodes that were
    stopped are started again on their old ports. The last line printed is the address; with
    --security sasl_ssl or ssl, the client settings, KAFKA_BOOTSTRAP_SERVERS first (passwords
    as KAFKA_SASL_PASSWORD_FILE or KAFKA_SSL_KEY_PASSWORD_FILE, never themselves).
    """
    try:
        if brokers == 1:
            single = LocalBroker(
                state_dir, heap=heap or "512m", echo=_echo, security=security,
                authorizer=authorizer,
            )  # fmt: skip
            status = single.start(port=port, timeout=timeout)
            if status.security != "plaintext":
                for key, value in single.client_env().items():
                    click.echo(f"{key}={value}")
                return
            bootstrap = status.bootstrap_servers
        elif port is not None:
            fail("--port is for the single broker; a cluster picks free ports", EXIT_USAGE)
        elif security not in (None, "plaintext") or authorizer:
            fail("--security sasl_ssl or ssl and --acls are for the single broker", EXIT_USAGE)
        else:
            bootstrap = _cluster(state_dir, brokers, heap).start(timeout=timeout).bootstrap_servers
    except LocalKafkaError as exc:
        fail(str(exc))
    click.echo(bootstrap)


@kafka.command()
@state_dir_option
@click.argument("name")
def user(state_dir: Path | None, name: str) -> None:
    """Create SCRAM user NAME on the running sasl_ssl broker (a new random password, kept in
    the state dir) and print the client settings that log in as it, as KEY=value lines; give
    it ACLs with `alertpipe kafka acls --apply` (run as user alertpipe)."""
    try:
        env = LocalBroker(state_dir, echo=_echo).add_user(name)
    except LocalKafkaError as exc:
        fail(str(exc))
    for key, value in env.items():
        click.echo(f"{key}={value}")


kafka.add_command(acls)


@kafka.command()
@state_dir_option
@brokers_option
@click.option("--node", type=int, default=None, help="Stop only this node of the cluster (1-N).")
@click.option("--kill", is_flag=True, help="SIGKILL at once (a crash), no graceful shutdown.")
@click.option(
    "--timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait after SIGTERM before SIGKILL.",
)
def stop(
    state_dir: Path | None, brokers: int, node: int | None, kill: bool, timeout: float
) -> None:
    """Stop the broker(s) by PID (SIGTERM, then SIGKILL). Harmless when not running."""
    first = signal.SIGKILL if kill else signal.SIGTERM
    try:
        if brokers == 1:
            if node is not None:
                fail("--node needs --brokers N (a cluster)", EXIT_USAGE)
            LocalBroker(state_dir, echo=_echo).stop(timeout=timeout, first=first)
        elif node is not None:
            _cluster(state_dir, brokers).stop_node(node, first=first, timeout=timeout)
        else:
            _cluster(state_dir, brokers).stop(timeout=timeout)
    except LocalKafkaError as exc:
        fail(str(exc))


@kafka.command()
@state_dir_option
@brokers_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def status(state_dir: Path | None, brokers: int, as_json: bool) -> None:
    """Say whether the broker(s) run and print the bootstrap address. Exit 0 either way."""
    if brokers > 1:
        cluster = LocalCluster(state_dir or default_cluster_dir(), size=brokers, echo=_echo)
        found = cluster.status()
        if as_json:
            click.echo(json.dumps(found.to_json()))
            return
        for node_id, node in sorted(found.nodes.items()):
            state = f"running (pid {node.pid})" if node.running else "not running"
            click.echo(f"node {node_id}: {state}")
        click.echo(f"{found.running} of {brokers} running at {found.bootstrap_servers}")
        return
    current = LocalBroker(state_dir, echo=lambda _: None).status()
    if as_json:
        click.echo(json.dumps(current.to_json()))
    elif current.running:
        click.echo(f"running at {current.bootstrap_servers} (pid {current.pid})")
    else:
        click.echo(f"not running (state dir {current.state_dir})")
