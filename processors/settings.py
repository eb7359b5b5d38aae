"""Worker settings, read once from the environment by ``alertpipe worker``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from kafkaio.env import Env, SettingsError
from kafkaio.settings import Settings, load_settings
from processors.incidents import IncidentPolicy

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1] / ".cache" / "worker"
Guarantee = Literal["exactly-once", "at-least-once"]
GUARANTEES: tuple[Guarantee, ...] = ("exactly-once", "at-least-once")


@dataclass(frozen=True)
class WorkerSettings:
    kafka: Settings
    # Consumer group of the workers; every worker of one pipeline shares it. It also names
    # the worker's internal topics (repartition and changelog).
    group: str = "alertpipe-worker"
    # exactly-once: outputs, incident state and consumed offsets commit in one Kafka
    # transaction (read_committed readers see each alert once). at-least-once: lower latency,
    # an alert may be delivered again (same alert_id) after a crash.
    processing_guarantee: Guarantee = "exactly-once"
    # How often the worker commits (a transaction under exactly-once). Under exactly-once a
    # read_committed reader sees outputs only then, so it bounds the latency from below.
    commit_interval_s: float = 0.05
    # Stable identity of this worker instance (e.g. the StatefulSet pod name): static group
    # membership and the transactional id. None: dynamic membership, a random id.
    instance_id: str | None = None
    # A worker that sends no heartbeat for this long is evicted and its partitions move on.
    session_timeout_s: float = 15
    # An open transaction of a worker that died is aborted by the broker after this long.
    transaction_timeout_s: float = 10
    # Incident state (processors.incidents): forget resolved/open incidents after these.
    resolved_ttl_s: float = IncidentPolicy.resolved_ttl_ms / 1000
    open_ttl_s: float = IncidentPolicy.open_ttl_ms / 1000
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9464  # 0: no metrics endpoint
    data_dir: Path = DEFAULT_DATA_DIR

    @property
    def exactly_once(self) -> bool:
        return self.processing_guarantee == "exactly-once"

    @property
    def heartbeat_s(self) -> float:
        """The consumer's heartbeat interval: a fifth of the session, at least a second."""
        return max(1.0, self.session_timeout_s / 5)


def load_worker_settings(env: Mapping[str, str] | None = None) -> WorkerSettings:
    values = os.environ if env is None else env
    read, d = Env(values), WorkerSettings(kafka=Settings())
    commit = read.number("ALERTPIPE_WORKER_COMMIT_INTERVAL_S", d.commit_interval_s, high=60)
    if commit <= 0:
        raise SettingsError("ALERTPIPE_WORKER_COMMIT_INTERVAL_S must be above 0 and at most 60")
    # The bounds are the broker's defaults: group.{min,max}.session.timeout.ms and
    # transaction.max.timeout.ms.
    session = read.number("ALERTPIPE_WORKER_SESSION_TIMEOUT_S", d.session_timeout_s, 6, 300)
    transaction = read.number(
        "ALERTPIPE_WORKER_TRANSACTION_TIMEOUT_S", d.transaction_timeout_s, 1, 900
    )
    if transaction <= commit:
        raise SettingsError(
            "ALERTPIPE_WORKER_TRANSACTION_TIMEOUT_S must be longer than the commit interval"
        )
    return WorkerSettings(
        kafka=load_settings(values),
        group=read.text("ALERTPIPE_WORKER_GROUP", d.group),
        processing_guarantee=cast(
            Guarantee,
            read.choice("ALERTPIPE_PROCESSING_GUARANTEE", d.processing_guarantee, GUARANTEES),
        ),
        commit_interval_s=commit,
        instance_id=read.optional("ALERTPIPE_WORKER_INSTANCE_ID"),
        session_timeout_s=session,
        transaction_timeout_s=transaction,
        resolved_ttl_s=read.positive("ALERTPIPE_RESOLVED_TTL_S", d.resolved_ttl_s),
        open_ttl_s=read.positive("ALERTPIPE_OPEN_TTL_S", d.open_ttl_s),
        metrics_host=read.text("ALERTPIPE_WORKER_METRICS_HOST", d.metrics_host),
        metrics_port=read.integer("ALERTPIPE_WORKER_METRICS_PORT", d.metrics_port, 0, 65535),
        data_dir=Path(read.text("ALERTPIPE_WORKER_DATA_DIR", str(d.data_dir))),
    )


def incident_policy(settings: WorkerSettings) -> IncidentPolicy:
    """The incident TTLs of these settings (the worker, replay and explain use the same)."""
    return IncidentPolicy(
        resolved_ttl_ms=int(settings.resolved_ttl_s * 1000),
        open_ttl_ms=int(settings.open_ttl_s * 1000),
    )
