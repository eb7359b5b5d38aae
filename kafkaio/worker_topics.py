"""The names of the topics the worker keeps beside the ones it is given (no quixstreams
import: the CLI's ``topics create``, ``dlq redrive`` and the tests use them)."""

from __future__ import annotations

from dataclasses import dataclass

# What the hop is for: it names the repartition topic (and so its changelog).
HOP = "incident"


@dataclass(frozen=True)
class InternalTopics:
    """The worker's internal topics, named after its consumer group and the raw topic."""

    # stage 1's alerts keyed by incident key, as many partitions as the raw topic (stage 2
    # reads it, in the same application and the same transactions)
    repartition: str
    changelog: str  # the incident states, compacted (state recovery reads it)


def internal_topics(group: str, raw_topic: str) -> InternalTopics:
    """The worker names its hop as quixstreams names a repartition topic
    (``repartition__<group>--<raw>--<hop>``); quixstreams names the changelog of the state of a
    dataframe on a topic ``changelog__<group>--<topic>--<store>``, the topic's name without its
    ``__<group>`` and with dots for ``--`` (the name the changelog had when the hop was
    quixstreams' own ``group_by``: a worker upgraded from it keeps its state). A test builds the
    real application and checks these names against the topics it creates."""
    repartition = f"repartition__{group}--{raw_topic}--{HOP}"
    nested = repartition.replace(f"__{group}", "").replace("--", ".")
    return InternalTopics(repartition, f"changelog__{group}--{nested}--default")
