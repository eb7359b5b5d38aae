"""Ingress settings, read once from the environment by the app factory (each worker process)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from kafkaio.settings import Settings, SettingsError, load_settings


@dataclass(frozen=True)
class IngressSettings:
    kafka: Settings
    max_body_bytes: int = 512 * 1024
    # Bound on "Kafka acknowledged the record"; past it the sender gets 503 + Retry-After.
    produce_timeout_s: float = 10.0
    retry_after_s: int = 5
    # Token bucket per integration key, per ingress process.
    rate_limit_per_s: float = 1000.0
    rate_limit_burst: int = 5000
    # Slow clients: the request line + headers, then the whole body, must arrive in time.
    header_timeout_s: float = 10.0
    body_timeout_s: float = 15.0
    keep_alive_s: float = 5.0
    access_log: bool = False
    # "kafka" (durable) or "null": answer without writing, ONLY to measure the HTTP ceiling.
    sink: str = "kafka"


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise SettingsError(f"{name}={value} must be positive")
    return value


def load_ingress_settings(env: Mapping[str, str] | None = None) -> IngressSettings:
    env = os.environ if env is None else env
    d = IngressSettings(kafka=Settings())
    sink = env.get("ALERTPIPE_INGRESS_SINK", d.sink).strip().lower()
    if sink not in ("kafka", "null"):
        raise SettingsError(f"ALERTPIPE_INGRESS_SINK={sink!r}: expected kafka or null")
    return IngressSettings(
        kafka=load_settings(env),
        max_body_bytes=int(_float(env, "ALERTPIPE_MAX_BODY_BYTES", d.max_body_bytes)),
        produce_timeout_s=_float(env, "ALERTPIPE_PRODUCE_TIMEOUT_S", d.produce_timeout_s),
        retry_after_s=int(_float(env, "ALERTPIPE_RETRY_AFTER_S", d.retry_after_s)),
        rate_limit_per_s=_float(env, "ALERTPIPE_RATE_LIMIT_PER_S", d.rate_limit_per_s),
        rate_limit_burst=int(_float(env, "ALERTPIPE_RATE_LIMIT_BURST", d.rate_limit_burst)),
        header_timeout_s=_float(env, "ALERTPIPE_HEADER_TIMEOUT_S", d.header_timeout_s),
        body_timeout_s=_float(env, "ALERTPIPE_BODY_TIMEOUT_S", d.body_timeout_s),
        keep_alive_s=_float(env, "ALERTPIPE_KEEP_ALIVE_S", d.keep_alive_s),
        access_log=env.get("ALERTPIPE_ACCESS_LOG", "").strip().lower() in ("1", "true", "yes"),
        sink=sink,
    )
