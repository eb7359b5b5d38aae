"""Worker settings, read once from the environment by ``alertpipe worker``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from alertpipe.settings import Settings, SettingsError, load_settings

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1] / ".cache" / "worker"


@dataclass(frozen=True)
class WorkerSettings:
    kafka: Settings
    # Consumer group of the stage-1 workers; every worker of one pipeline shares it.
    group: str = "alertpipe-stage1"
    # Records processed together; outputs of a batch are acknowledged before the next one.
    batch_size: int = 500
    batch_within_s: float = 0.02
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
    except ValueError as exc:
        raise SettingsError(f"worker setting is not a number: {exc}") from None
    if batch < 1 or within <= 0 or not 0 <= port <= 65535:
        raise SettingsError("ALERTPIPE_WORKER_BATCH >= 1, _BATCH_WITHIN_S > 0, port 0-65535")
    return WorkerSettings(
        kafka=load_settings(env),
        group=env.get("ALERTPIPE_WORKER_GROUP", d.group),
        batch_size=batch,
        batch_within_s=within,
        metrics_host=env.get("ALERTPIPE_WORKER_METRICS_HOST", d.metrics_host),
        metrics_port=port,
        data_dir=Path(env.get("ALERTPIPE_WORKER_DATA_DIR", str(d.data_dir))),
    )
