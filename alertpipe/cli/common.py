"""What every command shares: exit codes, error reporting, finding the broker."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from alertpipe.localbroker.broker import LocalBroker
from alertpipe.localbroker.choice import BrokerKind, choose_broker
from kafkaio.clients import KafkaConnection
from kafkaio.security import KafkaSecurity
from kafkaio.settings import Settings, SettingsError, load_settings
from kafkaio.worker_topics import InternalTopics, internal_topics
from schemas.errors import EXIT_FAILURE, EXIT_KAFKA_UNREACHABLE, EXIT_USAGE

if TYPE_CHECKING:
    from processors.validate import SchemaSet

__all__ = ["EXIT_FAILURE", "EXIT_KAFKA_UNREACHABLE", "EXIT_USAGE", "fail"]

EXIT_CODES_HELP = "Exit codes: 0 success, 1 failure, 2 usage error, 69 Kafka unreachable."


def configure_logging(*, verbose: bool = False) -> None:
    """Plain stderr logging for one-shot commands. The Kafka client's own connection errors are
    hidden unless --verbose: the command reports unreachable brokers itself, in one line."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not verbose:
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


# A file argument or option that may be "-": standard input (the convention of every command).
INPUT_FILE = click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)


def read_input(path: Path) -> bytes:
    """The bytes of ``path``, or of standard input when it is ``-``."""
    if str(path) == "-":
        return sys.stdin.buffer.read()
    return path.read_bytes()


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(f"bad setting: {exc}", EXIT_USAGE)


def schemas_or_exit(settings: Settings) -> SchemaSet:
    """The sources compiled: the built-in ones, ALERTPIPE_SOURCES_DIR's beside them and the
    fixed schemas of ALERTPIPE_SCHEMA_DIR in front."""
    from processors.validate import schema_set
    from schemas.registry import RegistryError

    try:
        return schema_set(settings.schema_dir, settings.sources_dir)
    except RegistryError as exc:
        fail(f"bad source: {exc}", EXIT_USAGE)


def known_source_or_exit(settings: Settings, source: str | None) -> None:
    """A --source filter naming no source served here is a usage error, not an empty answer."""
    from schemas.registry import RegistryError, catalog

    if source is None:
        return
    try:
        known = catalog(settings.sources_dir)
    except RegistryError as exc:
        fail(f"bad source: {exc}", EXIT_USAGE)
    if source not in known:
        fail(f"unknown source {source!r}; known: {', '.join(sorted(known))}", EXIT_USAGE)


def bootstrap_or_exit(settings: Settings) -> KafkaConnection:
    """KAFKA_BOOTSTRAP_SERVERS if set, else the running local broker, else a clear error;
    with the security settings (KAFKA_SECURITY_PROTOCOL, ...), or, for a local broker started
    with --security sasl_ssl or ssl and no such settings, that broker's own client settings."""
    choice = choose_broker(os.environ, "run", lambda: False)
    if choice.kind is BrokerKind.EXTERNAL and choice.bootstrap_servers:
        return settings.connection(choice.bootstrap_servers)
    broker = LocalBroker(echo=lambda _: None)
    status = broker.status()
    state = broker.read_state()
    if status.running and status.bootstrap_servers and state is not None:
        if status.security != "plaintext" and settings.security == KafkaSecurity():
            return broker.client(state)
        return settings.connection(status.bootstrap_servers)
    fail(
        "no Kafka configured: start the local broker with `alertpipe kafka start` "
        "(or `make kafka-start`), or set KAFKA_BOOTSTRAP_SERVERS",
        EXIT_KAFKA_UNREACHABLE,
    )


def worker_topics_or_exit(settings: Settings) -> InternalTopics:
    """The internal topics of the configured worker group (ALERTPIPE_WORKER_GROUP)."""
    from processors.settings import load_worker_settings

    try:
        group = load_worker_settings().group
    except SettingsError as exc:
        fail(f"bad setting: {exc}", EXIT_USAGE)
    return internal_topics(group, settings.topics.raw)
