"""Running the ingress under uvicorn: the app factory each worker process calls, and an HTTP
protocol that adds the header-read timeout uvicorn lacks (slowloris defence)."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ingest.app import IngressApp
from ingest.keystore import KeyStore
from ingest.logs import configure_json_logging
from ingest.settings import IngressSettings, load_ingress_settings
from ingest.sink import KafkaSink, NullSink, RawSink
from kafkaio.clients import KafkaTarget
from kafkaio.settings import Settings, SettingsError
from schemas.registry import RegistryError, SourceInfo, catalog

log = logging.getLogger("alertpipe.ingest")


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """Closes a connection whose request line and headers do not arrive within
    ``header_timeout`` seconds of its first byte (or of the connection being opened)."""

    header_timeout: float = 10.0  # set from settings by create_app() in each worker process
    _header_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expire(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.logger.info("closing a connection: headers not received in time")
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def build_sink(settings: IngressSettings, kafka: KafkaTarget) -> RawSink:
    if settings.sink == "null":
        return NullSink()
    return KafkaSink(
        kafka,
        settings.kafka.topics.raw,
        timeout=settings.produce_timeout_s,
        # Room for the largest accepted body plus headers and batch overhead.
        max_request_size=max(1024 * 1024, settings.max_body_bytes + 64 * 1024),
    )


def checked_sources(settings: Settings) -> dict[str, SourceInfo]:
    """The sources (the built-in ones and ALERTPIPE_SOURCES_DIR's), compiled as the worker
    compiles them: a bad one stops the ingress at start with the file and the line, not only
    the worker."""
    from processors.validate import schema_set

    try:
        schema_set(settings.schema_dir, settings.sources_dir)  # cached: `alertpipe ingress`'s
        sources = catalog(settings.sources_dir)
    except RegistryError as exc:
        raise SystemExit(f"error: bad source: {exc}") from None
    return sources


def create_app(settings: IngressSettings | None = None) -> IngressApp:
    """The app and its dependencies. Without ``settings`` (uvicorn's factory, once per worker
    process) they are read from the environment."""
    configure_json_logging()
    if settings is None:
        try:
            settings = load_ingress_settings()
        except SettingsError as exc:
            raise SystemExit(f"error: bad setting: {exc}") from None
    bootstrap = settings.kafka.bootstrap_servers
    if not bootstrap:
        raise SystemExit("error: the ingress needs KAFKA_BOOTSTRAP_SERVERS")
    kafka = settings.kafka.connection(bootstrap)
    HeaderTimeoutProtocol.header_timeout = settings.header_timeout_s
    return IngressApp(
        settings=settings,
        sources=checked_sources(settings.kafka),
        sink=build_sink(settings, kafka),
        keys=KeyStore(kafka, settings.kafka.topics.integrations),
    )


def serve(host: str, port: int, workers: int, settings: IngressSettings) -> None:
    """One process serving an app built from ``settings``; or ``workers`` processes, which
    uvicorn starts from an import string: each reads its settings from the environment, so
    the ones decided here travel in it (``settings_env``)."""
    app: IngressApp | str = "ingest.server:create_app"
    if workers == 1:
        app = create_app(settings)
    else:
        os.environ.update(settings_env(settings))
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # One /metrics view across worker processes.
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="alertpipe-metrics-")
    uvicorn.run(
        app,
        factory=workers > 1,
        host=host,
        port=port,
        workers=workers,
        http=HeaderTimeoutProtocol,
        loop="uvloop",
        access_log=False,  # uvicorn's access log prints paths, and paths hold keys
        timeout_keep_alive=int(settings.keep_alive_s),
        timeout_graceful_shutdown=int(settings.produce_timeout_s) + 5,
        log_config=None,
        server_header=False,
    )


def settings_env(settings: IngressSettings) -> dict[str, str]:
    """What a worker process started from the environment needs to read ``settings`` back:
    the values the CLI decides rather than the environment (the cluster and how to reach it,
    the sink)."""
    env = {"ALERTPIPE_INGRESS_SINK": settings.sink}
    if settings.kafka.bootstrap_servers:
        kafka = settings.kafka.connection(settings.kafka.bootstrap_servers)
        env.update(kafka.env())
    return env
