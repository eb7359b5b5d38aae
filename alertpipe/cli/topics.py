"""``alertpipe topics create``: the contract topics and the worker's internal ones,
idempotently."""

from __future__ import annotations

import asyncio

import click

from alertpipe.cli.common import (
    EXIT_KAFKA_UNREACHABLE,
    EXIT_USAGE,
    bootstrap_or_exit,
    fail,
    settings_or_exit,
)
from alertpipe.cli.group import CommandGroup
from kafkaio.admin import KafkaUnreachable
from kafkaio.settings import Settings, SettingsError
from kafkaio.topics import TopicCreationError, TopicOutcome, TopicSpec, ensure_topics, topic_specs
from processors.settings import load_worker_settings


@click.group(cls=CommandGroup)
def topics() -> None:
    """Manage the Kafka topics alertpipe reads and writes."""


@topics.command()
@click.option(
    "--timeout", type=float, default=15.0, show_default=True, help="Seconds to reach Kafka."
)
def create(timeout: float) -> None:
    """Create alerts.raw, alerts.normalized, alerts.dead-letter, the integration-key and
    routing topics, and the worker's internal topics if missing.

    The internal topics are those of the worker group ALERTPIPE_WORKER_GROUP (default
    alertpipe-worker): its repartition topic (repartition__<group>--<raw topic>--incident)
    and its incident-state changelog (changelog__<group>--..., compacted). The worker would
    create them itself, but without min.insync.replicas.

    Names, partitions, replication and retention come from the ALERTPIPE_TOPIC_* settings
    (raw retention: 7 days by default, since replay depends on it; the internal topics take
    the raw topic's). Existing topics are reported and left unchanged.
    """
    settings = settings_or_exit()
    specs = all_topic_specs(settings)
    bootstrap = bootstrap_or_exit(settings)
    try:
        outcomes = asyncio.run(ensure_topics(bootstrap, specs, timeout=timeout))
    except KafkaUnreachable as exc:
        fail(str(exc), EXIT_KAFKA_UNREACHABLE)
    except TopicCreationError as exc:
        fail(str(exc))
    for line in describe_outcomes(outcomes):
        click.echo(line)


def all_topic_specs(settings: Settings) -> list[TopicSpec]:
    """The contract topics and the internal topics of the configured worker group; a bad
    worker setting exits with status 2."""
    try:
        group = load_worker_settings().group
    except SettingsError as exc:
        fail(f"bad setting: {exc}", EXIT_USAGE)
    return topic_specs(settings.topics, group)


def describe_outcomes(outcomes: list[TopicOutcome]) -> list[str]:
    lines = []
    for o in outcomes:
        verb = "created" if o.created else "exists "
        line = f"{verb} {o.name} ({o.partitions} partitions)"
        if o.warning:
            line += f"  warning: {o.warning}"
        lines.append(line)
    return lines
