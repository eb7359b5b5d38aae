"""Every environment variable alertpipe reads, with what it means and where it lands.

The table below is the one hand-written part of the configuration reference: defaults are
read from the settings code (each loader called with an empty environment), and the tests
check the table against the code both ways: every variable the code reads is listed, and
setting each listed variable changes the field named here (``tests/alertpipe/test_configref``).
``alertpipe.configdoc`` renders it as ``docs/configuration.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from alertpipe.console.settings import MIN_TOKEN_CHARS, TOKEN_ENV, load_console_settings
from ingest.settings import load_ingress_settings
from kafkaio.settings import load_settings
from processors.settings import load_worker_settings

Loader = Callable[[Mapping[str, str]], object]


@dataclass(frozen=True)
class Section:
    title: str
    intro: str
    # Reads the environment into the settings object the paths below are relative to;
    # None for variables read where they are used (no settings object).
    loader: Loader | None


@dataclass(frozen=True)
class SettingDoc:
    env: str
    section: Section
    meaning: str
    # Dotted attribute path in what the section's loader returns, e.g. "topics.raw".
    path: str | None = None
    # Shown instead of the code's default when that reads badly (None, absolute paths).
    default_text: str | None = None
    # A valid non-default value, for the test that proves env -> path (derived when None).
    sample: str | None = None


KAFKA = Section(
    "Kafka and topics",
    "Read by every command (`kafkaio.settings.load_settings`). Topic shapes apply when "
    "`alertpipe topics create` creates a topic; existing topics are left unchanged.",
    load_settings,
)
INGRESS = Section(
    "Ingress",
    "Read by each `alertpipe ingress` process at start (`ingest.settings`), besides the Kafka "
    "and topic settings above.",
    load_ingress_settings,
)
WORKER = Section(
    "Worker",
    "Read by `alertpipe worker` at start (`processors.settings`), besides the Kafka and topic "
    "settings above.",
    load_worker_settings,
)


def _console_settings(env: Mapping[str, str]) -> object:
    """The console's settings; the token is required, so the reference reads the other
    defaults with a stand-in one."""
    return load_console_settings({TOKEN_ENV: "x" * MIN_TOKEN_CHARS, **env})


CONSOLE = Section(
    "Console",
    "Read by `alertpipe console` at start (`alertpipe.console.settings`), besides the Kafka "
    "and topic settings above and the worker's ALERTPIPE_WORKER_GROUP (whose changelog it "
    "reads). See docs/console.md.",
    _console_settings,
)
OTHER = Section(
    "Commands and processes",
    "Read where they are used, not by a settings loader.",
    None,
)

SETTINGS: tuple[SettingDoc, ...] = (
    SettingDoc("KAFKA_BOOTSTRAP_SERVERS", KAFKA,
               "Comma-separated host:port of an existing Kafka cluster. Unset: the local "
               "broker of this checkout (`alertpipe kafka start`); containers must set it.",
               "bootstrap_servers", "(local broker)", "kafka-0:9092,kafka-1:9092"),
    SettingDoc("KAFKA_SECURITY_PROTOCOL", KAFKA,
               "`PLAINTEXT`, `SSL` (TLS), `SASL_SSL` (TLS and a SASL user: MSK, Confluent Cloud, "
               "Aiven, Strimzi) or `SASL_PLAINTEXT` (needs KAFKA_SASL_ALLOW_PLAINTEXT). Used by "
               "every client: ingress, worker, CLI. See docs/operations.md.",
               "security.protocol", None, "SSL"),
    SettingDoc("KAFKA_SSL_CA_FILE", KAFKA,
               "PEM file of the CA(s) that signed the brokers' certificates. Unset: the system's "
               "trust store (public CAs). The host name is always verified.",
               default_text="(system CAs)"),
    SettingDoc("KAFKA_SSL_CERT_FILE", KAFKA,
               "PEM client certificate, for brokers that require mutual TLS; with "
               "KAFKA_SSL_KEY_FILE.", default_text="unset"),
    SettingDoc("KAFKA_SSL_KEY_FILE", KAFKA,
               "PEM private key of the client certificate.", default_text="unset"),
    SettingDoc("KAFKA_SSL_KEY_PASSWORD", KAFKA,
               "Password of an encrypted KAFKA_SSL_KEY_FILE. Secret: never printed.",
               default_text="unset"),
    SettingDoc("KAFKA_SSL_KEY_PASSWORD_FILE", KAFKA,
               "A file holding that password (a mounted Kubernetes Secret), instead of the "
               "variable.", default_text="unset"),
    SettingDoc("KAFKA_SASL_MECHANISM", KAFKA,
               "`PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`; needed with SASL_SSL.",
               default_text="unset"),
    SettingDoc("KAFKA_SASL_USERNAME", KAFKA, "The SASL user.", default_text="unset"),
    SettingDoc("KAFKA_SASL_PASSWORD", KAFKA,
               "The SASL user's password. Secret: masked wherever settings are printed or "
               "logged.", default_text="unset"),
    SettingDoc("KAFKA_SASL_PASSWORD_FILE", KAFKA,
               "A file holding the password (a mounted Kubernetes Secret; its trailing newline "
               "is dropped), instead of KAFKA_SASL_PASSWORD; setting both is an error.",
               default_text="unset"),
    SettingDoc("KAFKA_SASL_ALLOW_PLAINTEXT", KAFKA,
               "`true`: allow SASL_PLAINTEXT, which sends the credentials (PLAIN) and every "
               "record unencrypted; for a network you trust only.", default_text="off"),
    SettingDoc("ALERTPIPE_TOPIC_RAW", KAFKA,
               "Verbatim request bodies, written by the ingress, kept for replay.", "topics.raw"),
    SettingDoc("ALERTPIPE_TOPIC_NORMALIZED", KAFKA,
               "The delivery topic downstream consumers read.", "topics.normalized"),
    SettingDoc("ALERTPIPE_TOPIC_DEAD_LETTER", KAFKA,
               "Bodies that could not be processed, with the reason in headers.",
               "topics.dead_letter"),
    SettingDoc("ALERTPIPE_TOPIC_INTEGRATIONS", KAFKA,
               "Integration keys (hashes only); compacted, one partition.",
               "topics.integrations"),
    SettingDoc("ALERTPIPE_TOPIC_ROUTES", KAFKA,
               "Routing table and rules per org; compacted, one partition.", "topics.routes"),
    SettingDoc("ALERTPIPE_TOPIC_MAINTENANCE", KAFKA,
               "Maintenance windows, one record per window; compacted, one partition, records "
               "deleted after 90 days.", "topics.maintenance"),
    SettingDoc("ALERTPIPE_TOPIC_PARTITIONS", KAFKA,
               "Partitions of each topic created (raw, normalized, dead-letter and the worker's "
               "internal ones). The "
               "upper bound on busy workers; see docs/operations.md.", "topics.partitions"),
    SettingDoc("ALERTPIPE_REPLICATION_FACTOR", KAFKA,
               "Replication factor of each topic created; 3 on a production cluster.",
               "topics.replication_factor"),
    SettingDoc("ALERTPIPE_MIN_INSYNC_REPLICAS", KAFKA,
               "`min.insync.replicas` of each topic created, set only when replicated.",
               "topics.min_insync_replicas", "replication factor - 1, at least 1", "2"),
    SettingDoc("ALERTPIPE_RAW_RETENTION_MS", KAFKA,
               "How far back the raw topic can be replayed (ms).", "topics.raw_retention_ms"),
    SettingDoc("ALERTPIPE_NORMALIZED_RETENTION_MS", KAFKA,
               "Retention of the delivery topic (ms); the worker's internal topics keep the raw "
               "topic's.",
               "topics.normalized_retention_ms"),
    SettingDoc("ALERTPIPE_DEAD_LETTER_RETENTION_MS", KAFKA,
               "Time to fix and redrive dead letters (ms).", "topics.dead_letter_retention_ms"),
    SettingDoc("ALERTPIPE_SCHEMA_DIR", KAFKA,
               "A directory of fixed source schemas (`<source>.schema.json`) that replace the "
               "built-in ones, read at start by the worker and by the CLI (`replay`, `explain`, "
               "`dlq redrive`, `routes test`); only schemas change, paths and content types "
               "stay the built-in ones.", "schema_dir", "(built-in schemas)", "/tmp"),
    SettingDoc("ALERTPIPE_SOURCES_DIR", KAFKA,
               "A directory of your own source folders (`<name>/<name>.schema.json`, "
               "`mapping.yaml`, `samples/`), served beside the built-in sources by the ingress, "
               "the worker and the CLI; a bad one stops them at start with the file and line.",
               "sources_dir", "(built-in sources only)", "/tmp"),
    SettingDoc("ALERTPIPE_MAX_BODY_BYTES", INGRESS,
               "Larger bodies get 413 and are not read past the limit.", "max_body_bytes"),
    SettingDoc("ALERTPIPE_PRODUCE_TIMEOUT_S", INGRESS,
               "Bound on Kafka's acknowledgement of a raw record before answering 503.",
               "produce_timeout_s"),
    SettingDoc("ALERTPIPE_RETRY_AFTER_S", INGRESS,
               "`Retry-After` of 503 answers (s); 429 answers say when the bucket refills.",
               "retry_after_s"),
    SettingDoc("ALERTPIPE_RATE_LIMIT_PER_S", INGRESS,
               "Token refill rate per integration key, per ingress process (requests/s).",
               "rate_limit_per_s"),
    SettingDoc("ALERTPIPE_RATE_LIMIT_BURST", INGRESS,
               "Token bucket size per integration key, per ingress process.",
               "rate_limit_burst"),
    SettingDoc("ALERTPIPE_HEADER_TIMEOUT_S", INGRESS,
               "Request line and headers must arrive within this (slowloris defence).",
               "header_timeout_s"),
    SettingDoc("ALERTPIPE_BODY_TIMEOUT_S", INGRESS,
               "The whole body must arrive within this, else 408.", "body_timeout_s"),
    SettingDoc("ALERTPIPE_KEEP_ALIVE_S", INGRESS,
               "Idle keep-alive connections are closed after this.", "keep_alive_s"),
    SettingDoc("ALERTPIPE_ACCESS_LOG", INGRESS,
               "`1`/`true`/`yes`/`on`: one JSON line per webhook (never the path: it holds "
               "the key).",
               "access_log", "off", "true"),
    SettingDoc("ALERTPIPE_INGRESS_SINK", INGRESS,
               "`kafka`, or `null` for benchmarks only: answer without writing (nothing is "
               "durable). `alertpipe ingress --null-sink` sets it.", "sink", None, "null"),
    SettingDoc("ALERTPIPE_WORKER_GROUP", WORKER,
               "Kafka consumer group shared by the workers of one pipeline; it also names their "
               "internal topics (`repartition__<group>--...`, `changelog__<group>--...`).",
               "group"),
    SettingDoc("ALERTPIPE_PROCESSING_GUARANTEE", WORKER,
               "`exactly-once`: outputs, incident state and consumed offsets commit in one "
               "Kafka transaction, and a frozen or evicted worker is fenced. `at-least-once`: "
               "lower latency; after a crash an alert may be delivered again (same alert_id). "
               "See docs/operations.md.", "processing_guarantee", None, "at-least-once"),
    SettingDoc("ALERTPIPE_WORKER_COMMIT_INTERVAL_S", WORKER,
               "How often the worker commits (s); under exactly-once read_committed readers see "
               "outputs only then.", "commit_interval_s", None, "0.2"),
    SettingDoc("ALERTPIPE_WORKER_INSTANCE_ID", WORKER,
               "Stable id of this worker instance (the StatefulSet pod name): static group "
               "membership and a fixed transactional id, so a restarted worker takes its "
               "partitions back at once. Unset: dynamic membership. Never share one between "
               "running workers.", "instance_id", "unset", "worker-0"),
    SettingDoc("ALERTPIPE_WORKER_SESSION_TIMEOUT_S", WORKER,
               "A worker silent for this long is evicted from its group and its partitions "
               "move on (6-300 s). With an instance id, a worker that stops without coming back "
               "holds its partitions this long.", "session_timeout_s", None, "30"),
    SettingDoc("ALERTPIPE_WORKER_TRANSACTION_TIMEOUT_S", WORKER,
               "Exactly-once: an open transaction of a worker that died is aborted after this "
               "long (s), which bounds how long read_committed readers wait for it.",
               "transaction_timeout_s", None, "20"),
    SettingDoc("ALERTPIPE_RESOLVED_TTL_S", WORKER,
               "Resolved incidents are forgotten this long after they were last seen (s).",
               "resolved_ttl_s"),
    SettingDoc("ALERTPIPE_OPEN_TTL_S", WORKER,
               "Open incidents are forgotten this long after they were last seen (s).",
               "open_ttl_s"),
    SettingDoc("ALERTPIPE_WORKER_METRICS_HOST", WORKER,
               "Address of the worker's /metrics, /healthz and /readyz; `0.0.0.0` in "
               "containers.", "metrics_host"),
    SettingDoc("ALERTPIPE_WORKER_METRICS_PORT", WORKER,
               "Port of that endpoint; 0 turns it off. A port that cannot be bound stops the "
               "worker at start (exit 2).", "metrics_port"),
    SettingDoc("ALERTPIPE_WORKER_DATA_DIR", WORKER,
               "quixstreams' state directory (RocksDB incident state); one per worker, on a "
               "persistent volume in production.", "data_dir",
               "`.cache/worker` in the checkout", "/var/lib/alertpipe/worker"),
    SettingDoc("ALERTPIPE_CONSOLE_TOKEN", CONSOLE,
               "The operators' token (at least 16 characters): required, the console refuses "
               "to start without it. `make run` generates one. Secret: never printed.",
               default_text="(required)"),
    SettingDoc("ALERTPIPE_CONSOLE_HOST", CONSOLE,
               "Address the console listens on; loopback by default, keep it off the internet "
               "(an SSH tunnel or an authenticating proxy in front).", "host"),
    SettingDoc("ALERTPIPE_CONSOLE_PORT", CONSOLE, "Port the console listens on.", "port"),
    SettingDoc("ALERTPIPE_CONSOLE_INGRESS_URL", CONSOLE,
               "The ingress the console's **Send test alert** posts to and whose /readyz the "
               "Health page shows; also the base of the service URLs it shows unless "
               "ALERTPIPE_PUBLIC_URL is set.", "ingress_url"),
    SettingDoc("ALERTPIPE_CONSOLE_WORKER_URL", CONSOLE,
               "The worker's probe endpoint (ALERTPIPE_WORKER_METRICS_HOST:PORT) whose /readyz "
               "the Health page shows.", "worker_url"),
    SettingDoc("ALERTPIPE_CONSOLE_GUIDES_DIR", CONSOLE,
               "Directory of the sources' setup guides (`<source>.md`) the Integrations page "
               "shows; unset, the checkout's `docs/sources` when there is one, else none.",
               "guides_dir", "`docs/sources` of the checkout", "/tmp"),
    SettingDoc("ALERTPIPE_PUBLIC_URL", OTHER,
               "Base of the service URLs `alertpipe integrations enable` prints and the console "
               "shows (the ingress's public address).", default_text="`http://127.0.0.1:8080`"),
    SettingDoc("PROMETHEUS_MULTIPROC_DIR", OTHER,
               "Directory where `alertpipe ingress --workers N` processes share metrics; set "
               "to a fresh temporary directory when unset and N > 1.",
               default_text="(a temporary directory)"),
    SettingDoc("DOCKER_HOST", OTHER,
               "Development only: the Docker daemon the tests try before the local broker "
               "(testcontainers).", default_text="`unix:///var/run/docker.sock`"),
)  # fmt: skip

SECTIONS = (KAFKA, INGRESS, WORKER, CONSOLE, OTHER)


def value_at(settings: object, path: str) -> object:
    for name in path.split("."):
        settings = getattr(settings, name)
    return settings


def default_of(doc: SettingDoc) -> object:
    """The code's default for ``doc``: its loader's result for an empty environment."""
    if doc.section.loader is None or doc.path is None:
        return None
    return value_at(doc.section.loader({}), doc.path)
