"""The names of the topics quixstreams keeps for the worker (no quixstreams import: the CLI's
``topics create``, ``dlq redrive`` and the tests use them)."""

from __future__ import annotations

from dataclasses import dataclass

# The group_by operation: it names the repartition topic (and so its changelog).
GROUP_BY = "incident"


@dataclass(frozen=True)
class InternalTopics:
    """The worker's internal topics, named after its consumer group and the raw topic."""

    # stage 1's alerts keyed by incident key (stage 2 reads it); None for a raw topic of one
    # partition, where quixstreams re-keys in place
    repartition: str | None
    changelog: str  # the incident states, compacted (state recovery reads it)


def internal_topics(group: str, raw_topic: str, partitions: int) -> InternalTopics:
    """quixstreams' naming (``<type>__<group>--<name>--<suffix>``) for a raw topic of
    ``partitions``; a test builds the real application and checks these names against the
    topics it creates."""
    if partitions == 1:
        return InternalTopics(
            None, f"changelog__{group}--{raw_topic}--groupby--{GROUP_BY}--default"
        )
    repartition = f"repartition__{group}--{raw_topic}--{GROUP_BY}"
    nested = repartition.replace(f"__{group}", "").replace("--", ".")
    return InternalTopics(repartition, f"changelog__{group}--{nested}--default")
