"""The names of the topics quixstreams keeps for the worker (no quixstreams import: the CLI's
``topics create``, ``dlq redrive`` and the tests use them)."""

from __future__ import annotations

from dataclasses import dataclass

# The group_by operation: it names the repartition topic (and so its changelog).
GROUP_BY = "incident"


@dataclass(frozen=True)
class InternalTopics:
    """The worker's internal topics, named after its consumer group and the raw topic."""

    repartition: str  # stage 1's alerts keyed by incident key (stage 2 reads it)
    changelog: str  # the incident states, compacted (state recovery reads it)


def internal_topics(group: str, raw_topic: str) -> InternalTopics:
    """quixstreams' naming (``<type>__<group>--<name>--<suffix>``); a test builds the real
    application and checks these names against the topics it registers."""
    repartition = f"repartition__{group}--{raw_topic}--{GROUP_BY}"
    nested = repartition.replace(f"__{group}", "").replace("--", ".")
    return InternalTopics(repartition, f"changelog__{group}--{nested}--default")
