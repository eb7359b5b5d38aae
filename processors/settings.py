"""Worker settings, read once from the environment by ``alertpipe worker``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kafkaio.settings import Settings, SettingsError, load_settings
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
    resolved_ttl_s: float = 7 * 24 * 3600
    open_ttl_s: float = 30 * 24 * 3600
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9464  # 0: no metrics endpoint
    data_dir: Path = DEFAULT_DATA_DIR

    @property
    def exactly_once(self) -> bool:
        return self.processing_guarantee == "exactly-once"


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None


def load_worker_settings(env: Mapping[str, str] | None = None) -> WorkerSettings:
    env = os.environ if env is None else env
    d = WorkerSettings(kafka=Settings())
    guarantee = env.get("ALERTPIPE_PROCESSING_GUARANTEE", "").strip() or d.processing_guarantee
    if guarantee not in GUARANTEES:
        raise SettingsError(
            f"ALERTPIPE_PROCESSING_GUARANTEE={guarantee!r} must be one of {', '.join(GUARANTEES)}"
        )
    commit = _number(env, "ALERTPIPE_WORKER_COMMIT_INTERVAL_S", d.commit_interval_s)
    session = _number(env, "ALERTPIPE_WORKER_SESSION_TIMEOUT_S", d.session_timeout_s)
    transaction = _number(env, "ALERTPIPE_WORKER_TRANSACTION_TIMEOUT_S", d.transaction_timeout_s)
    resolved_ttl = _number(env, "ALERTPIPE_RESOLVED_TTL_S", d.resolved_ttl_s)
    open_ttl = _number(env, "ALERTPIPE_OPEN_TTL_S", d.open_ttl_s)
    port = int(_number(env, "ALERTPIPE_WORKER_METRICS_PORT", d.metrics_port))
    if not 0 < commit <= 60:
        raise SettingsError("ALERTPIPE_WORKER_COMMIT_INTERVAL_S must be above 0 and at most 60")
    if not 6 <= session <= 300:  # the broker's default group.{min,max}.session.timeout.ms
        raise SettingsError("ALERTPIPE_WORKER_SESSION_TIMEOUT_S must be between 6 and 300")
    if not 1 <= transaction <= 900:  # the broker's default transaction.max.timeout.ms
        raise SettingsError("ALERTPIPE_WORKER_TRANSACTION_TIMEOUT_S must be between 1 and 900")
    if transaction <= commit:
        raise SettingsError(
            "ALERTPIPE_WORKER_TRANSACTION_TIMEOUT_S must be longer than the commit interval"
        )
    if min(resolved_ttl, open_ttl) <= 0:
        raise SettingsError("ALERTPIPE_RESOLVED_TTL_S and ALERTPIPE_OPEN_TTL_S must be positive")
    if not 0 <= port <= 65535:
        raise SettingsError("ALERTPIPE_WORKER_METRICS_PORT must be between 0 and 65535")
    instance = env.get("ALERTPIPE_WORKER_INSTANCE_ID", "").strip() or None
    return WorkerSettings(
        kafka=load_settings(env),
        group=env.get("ALERTPIPE_WORKER_GROUP", "").strip() or d.group,
        processing_guarantee=guarantee,  # checked above
        commit_interval_s=commit,
        instance_id=instance,
        session_timeout_s=session,
        transaction_timeout_s=transaction,
        resolved_ttl_s=resolved_ttl,
        open_ttl_s=open_ttl,
        metrics_host=env.get("ALERTPIPE_WORKER_METRICS_HOST", d.metrics_host),
        metrics_port=port,
        data_dir=Path(env.get("ALERTPIPE_WORKER_DATA_DIR", str(d.data_dir))),
    )


def incident_policy(settings: WorkerSettings) -> IncidentPolicy:
    """The incident TTLs of these settings (the worker, replay and explain use the same)."""
    return IncidentPolicy(
        resolved_ttl_ms=int(settings.resolved_ttl_s * 1000),
        open_ttl_ms=int(settings.open_ttl_s * 1000),
    )
