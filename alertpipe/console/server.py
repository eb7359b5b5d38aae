"""Running the console under uvicorn: one process, one event loop, the view in memory."""

from __future__ import annotations

import uvicorn

from alertpipe.console.app import console_app
from alertpipe.console.context import Console, templates
from alertpipe.console.health import HealthSampler
from alertpipe.console.settings import ConsoleSettings
from alertpipe.console.view import ConsoleView
from kafkaio.clients import KafkaTarget
from kafkaio.worker_topics import internal_topics
from processors.incidents import IncidentPolicy
from schemas.registry import SourceInfo


def build_console(
    settings: ConsoleSettings,
    kafka: KafkaTarget,
    sources: dict[str, SourceInfo],
    policy: IncidentPolicy,
    group: str,
) -> Console:
    internal = internal_topics(group, settings.kafka.topics.raw)
    view = ConsoleView(kafka, settings.kafka.topics, internal.changelog)
    health = HealthSampler(
        kafka, group, (settings.kafka.topics.raw, internal.repartition), settings.ingress_url,
        settings.worker_url,
    )  # fmt: skip
    return Console(
        settings, kafka, view, sources, policy, internal.repartition, group, templates(), health
    )


def serve(console: Console) -> None:
    """Until SIGINT/SIGTERM (uvicorn's own handling: finish in-flight requests, then stop)."""
    config = uvicorn.Config(
        console_app(console), host=console.settings.host, port=console.settings.port,
        log_level="warning", access_log=False, lifespan="on", proxy_headers=False,
        server_header=False,
    )  # fmt: skip
    uvicorn.Server(config).run()
