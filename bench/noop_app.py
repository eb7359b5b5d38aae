"""A quixstreams app of the worker's shape that does no alertpipe work: the engine's ceiling.

    raw --apply(expand: one item per record)--> to_topic(the worker's repartition topic)
    repartition --stateful apply (one state write per record)--> to_topic(OUT)

It is built by the worker's own ``create_application`` (same guarantee, commit interval,
consumer and producer settings, read from the same ALERTPIPE_* environment) and its hop is
the worker's repartition topic, so with the worker's group and raw topic it writes the very
changelog the worker restores from (``kafkaio.worker_topics.internal_topics``). The
repartition key is the raw record's key (no parsing); the state written is the value
(``--fill-state``: an open incident's state, encoded as stage 2 encodes it, with the worker's
TTL, so that a real worker can restore it).

    python -m bench.noop_app --out TOPIC            # raw topic etc. from the environment
    python -m bench.noop_app --fill-state           # no output: only fills the state

Stops on SIGTERM (quixstreams commits its checkpoint first).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import timedelta
from typing import Any

from quixstreams import Application, State
from quixstreams.models.serializers import SerializationContext, Serializer
from quixstreams.models.topics import TopicManager

from kafkaio.worker_topics import internal_topics
from processors.incidents import IncidentState, encode_state
from processors.settings import WorkerSettings, incident_policy, load_worker_settings
from processors.worker.app import create_application
from processors.worker.observe import LoopReport
from processors.worker.topology import STATE_KEY, bytes_topic, state_ttl

log = logging.getLogger("alertpipe.bench.noop")
READY = "noop app running"


class SecondOfPair(Serializer):
    """The repartition value: the raw value carried in the (key, value) pair."""

    def __call__(self, value: Any, ctx: SerializationContext) -> bytes:
        return value[1]  # type: ignore[no-any-return]


def open_state(value: bytes, now_ms: int) -> IncidentState:
    """What stage 2 keeps for an incident opened by one CRITICAL event."""
    return IncidentState(
        status="open",
        severity="CRITICAL",
        last_transition=now_ms - 60_000,
        first_seen=now_ms - 60_000,
        last_seen=now_ms,
        events=1,
        suppressed=0,
        fingerprints=(f"event:{value[:40].decode(errors='replace')}",),
    )


def build(app: Application, settings: WorkerSettings, out: str | None, fill_state: bool) -> None:
    topics = settings.kafka.topics
    raw = bytes_topic(app, topics.raw)
    hop = bytes_topic(
        app,
        internal_topics(settings.group, topics.raw).repartition,
        SecondOfPair(),
        config=TopicManager.derive_topic_config([raw]),
    )
    first = app.dataframe(raw)
    first = first.apply(
        lambda value, key, _ts, _h: [(key or b"", value)], metadata=True, expand=True
    )
    first.to_topic(hop, key=lambda item: item[0])
    sdf = app.dataframe(hop)
    if fill_state:
        policy = incident_policy(settings)
        ttl = state_ttl(open_state(b"", 0), policy)

        def fill(value: bytes, state: State[str, Any]) -> bytes:
            state.set_bytes(
                STATE_KEY, encode_state(open_state(value, int(time.time() * 1000))), ttl=ttl
            )
            return value

        sdf = sdf.apply(fill, stateful=True)
    else:
        ttl = timedelta(days=30)

        def write(value: bytes, state: State[str, Any]) -> bytes:
            state.set_bytes(STATE_KEY, value[:256], ttl=ttl)  # about a state's size
            return value

        sdf = sdf.apply(write, stateful=True)
    if out is not None:
        sdf.to_topic(bytes_topic(app, out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.noop_app", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", help="output topic (none: state only)")
    parser.add_argument("--fill-state", action="store_true", help="write incident states")
    args = parser.parse_args(argv)
    from ingest.logs import configure_json_logging

    configure_json_logging(logging.INFO)
    settings = load_worker_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    report = LoopReport(topics=set())
    app = create_application(settings, report)
    build(app, settings, args.out, args.fill_state)
    log.info("%s (%s)", READY, settings.processing_guarantee)
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
