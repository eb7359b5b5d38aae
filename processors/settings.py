"""Worker settings, read once from the environment by ``alertpipe worker``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from alertpipe.settings import Settings, SettingsError, load_settings
from processors.incidents import IncidentPolicy

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1] / ".cache" / "worker"


@dataclass(frozen=True)
class WorkerSettings:
    kafka: Settings
    # Consumer group of the stage-1 workers; every worker of one pipeline shares it.
    group: str = "alertpipe-stage1"
    # Records processed together; outputs of a batch are acknowledged before the next one.
    batch_size: int = 500
    batch_within_s: float = 0.02
    # Incident state (processors.incidents): forget resolved/open incidents after these.
    resolved_ttl_s: float = 7 * 24 * 3600
    open_ttl_s: float = 30 * 24 * 3600
    # How often expired incidents are looked for and deleted from the table.
    sweep_interval_s: float = 3600
    # Warm copies of other workers' table partitions, for fast fail-over.
    standby_replicas: int = 1
    # A worker that sends no heartbeat for this long is evicted and its partitions move on.
    session_timeout_s: float = 15
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9464  # 0: no metrics endpoint
    data_dir: Path = DEFAULT_DATA_DIR


def load_worker_settings(env: Mapping[str, str] | None = None) -> WorkerSettings:
    env = os.environ if env is None else env
    d = WorkerSettings(kafka=Settings())
    try:
        batch = int(env.get("ALERTPIPE_WORKER_BATCH", d.batch_size))
        within = float(env.get("ALERTPIPE_WORKER_BATCH_WITHIN_S", d.batch_within_s))
        port = int(env.get("ALERTPIPE_WORKER_METRICS_PORT", d.metrics_port))
        resolved_ttl = float(env.get("ALERTPIPE_RESOLVED_TTL_S", d.resolved_ttl_s))
        open_ttl = float(env.get("ALERTPIPE_OPEN_TTL_S", d.open_ttl_s))
        sweep = float(env.get("ALERTPIPE_SWEEP_INTERVAL_S", d.sweep_interval_s))
        standby = int(env.get("ALERTPIPE_STANDBY_REPLICAS", d.standby_replicas))
        session = float(env.get("ALERTPIPE_WORKER_SESSION_TIMEOUT_S", d.session_timeout_s))
    except ValueError as exc:
        raise SettingsError(f"worker setting is not a number: {exc}") from None
    if batch < 1 or within <= 0 or not 0 <= port <= 65535:
        raise SettingsError("ALERTPIPE_WORKER_BATCH >= 1, _BATCH_WITHIN_S > 0, port 0-65535")
    if min(resolved_ttl, open_ttl, sweep) <= 0 or standby < 0:
        raise SettingsError("TTLs and the sweep interval must be positive, standby replicas >= 0")
    if not 6 <= session <= 300:  # the broker's default group.{min,max}.session.timeout.ms
        raise SettingsError("ALERTPIPE_WORKER_SESSION_TIMEOUT_S must be between 6 and 300")
    return WorkerSettings(
        kafka=load_settings(env),
        group=env.get("ALERTPIPE_WORKER_GROUP", d.group),
        batch_size=batch,
        batch_within_s=within,
        metrics_host=env.get("ALERTPIPE_WORKER_METRICS_HOST", d.metrics_host),
        metrics_port=port,
        resolved_ttl_s=resolved_ttl,
        open_ttl_s=open_ttl,
        sweep_interval_s=sweep,
        standby_replicas=standby,
        session_timeout_s=session,
        data_dir=Path(env.get("ALERTPIPE_WORKER_DATA_DIR", str(d.data_dir))),
    )


def incident_policy(settings: WorkerSettings) -> IncidentPolicy:
    """The incident TTLs of these settings (the worker, replay and explain use the same)."""
    return IncidentPolicy(
        resolved_ttl_ms=int(settings.resolved_ttl_s * 1000),
        open_ttl_ms=int(settings.open_ttl_s * 1000),
    )
