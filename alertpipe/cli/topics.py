"""``alertpipe topics create``: the contract topics, idempotently."""

from __future__ import annotations

import asyncio

import click

from alertpipe.cli.common import EXIT_KAFKA_UNREACHABLE, bootstrap_or_exit, fail, settings_or_exit
from alertpipe.kafkaprobe import KafkaUnreachable
from alertpipe.topics import TopicCreationError, TopicOutcome, ensure_topics, topic_specs


@click.group()
def topics() -> None:
    """Manage the Kafka topics alertpipe reads and writes."""


@topics.command()
@click.option(
    "--timeout", type=float, default=15.0, show_default=True, help="Seconds to reach Kafka."
)
def create(timeout: float) -> None:
    """Create alerts.raw, alerts.normalized and alerts.dead-letter if missing.

    Names, partitions, replication and retention come from the ALERTPIPE_TOPIC_* settings
    (raw retention: 7 days by default, since replay depends on it). Existing topics are
    reported and left unchanged.
    """
    settings = settings_or_exit()
    bootstrap = bootstrap_or_exit(settings)
    try:
        outcomes = asyncio.run(
            ensure_topics(bootstrap, topic_specs(settings.topics), timeout=timeout)
        )
    except KafkaUnreachable as exc:
        fail(str(exc), EXIT_KAFKA_UNREACHABLE)
    except TopicCreationError as exc:
        fail(str(exc))
    for line in describe_outcomes(outcomes):
        click.echo(line)


def describe_outcomes(outcomes: list[TopicOutcome]) -> list[str]:
    lines = []
    for o in outcomes:
        verb = "created" if o.created else "exists "
        line = f"{verb} {o.name} ({o.partitions} partitions)"
        if o.warning:
            line += f"  warning: {o.warning}"
        lines.append(line)
    return lines
