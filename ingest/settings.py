"""Ingress settings, read once from the environment by the app factory (each worker process)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ingest.snstrust import SnsTrust
from kafkaio.env import Env
from kafkaio.settings import Settings, load_settings


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
    # Where Amazon SNS's certificates and confirmations may be fetched. Not read from the
    # environment on purpose: only a test (its loopback server and CA) passes another.
    sns: SnsTrust = field(default_factory=SnsTrust)


def load_ingress_settings(env: Mapping[str, str] | None = None) -> IngressSettings:
    values = os.environ if env is None else env
    read, d = Env(values), IngressSettings(kafka=Settings())
    return IngressSettings(
        kafka=load_settings(values),
        max_body_bytes=read.integer("ALERTPIPE_MAX_BODY_BYTES", d.max_body_bytes, low=1),
        produce_timeout_s=read.positive("ALERTPIPE_PRODUCE_TIMEOUT_S", d.produce_timeout_s),
        retry_after_s=read.integer("ALERTPIPE_RETRY_AFTER_S", d.retry_after_s, low=1),
        rate_limit_per_s=read.positive("ALERTPIPE_RATE_LIMIT_PER_S", d.rate_limit_per_s),
        rate_limit_burst=read.integer("ALERTPIPE_RATE_LIMIT_BURST", d.rate_limit_burst, low=1),
        header_timeout_s=read.positive("ALERTPIPE_HEADER_TIMEOUT_S", d.header_timeout_s),
        body_timeout_s=read.positive("ALERTPIPE_BODY_TIMEOUT_S", d.body_timeout_s),
        keep_alive_s=read.positive("ALERTPIPE_KEEP_ALIVE_S", d.keep_alive_s),
        access_log=read.flag("ALERTPIPE_ACCESS_LOG"),
        sink=read.choice("ALERTPIPE_INGRESS_SINK", d.sink, ("kafka", "null")),
    )
