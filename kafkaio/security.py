"""How every Kafka client of alertpipe encrypts and authenticates: one frozen set of settings
(TLS with a CA and an optional client certificate, SASL PLAIN or SCRAM), read once through
``Env``, and its two translations: aiokafka's arguments (ingress, CLI, the worker's side loop)
and librdkafka's keys (the worker's quixstreams loop, its admin client included).

Errors name the variable to change. SASL without TLS sends the password (PLAIN) or at least
every record in clear, so it is refused unless KAFKA_SASL_ALLOW_PLAINTEXT says otherwise.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafkaio.env import Env, SettingsError
from kafkaio.secret import Secret

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_SSL", "SASL_PLAINTEXT")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
PROTOCOL_ENV = "KAFKA_SECURITY_PROTOCOL"
TLS_ENV = ("KAFKA_SSL_CA_FILE", "KAFKA_SSL_CERT_FILE", "KAFKA_SSL_KEY_FILE")
KEY_PASSWORD_ENV = ("KAFKA_SSL_KEY_PASSWORD", "KAFKA_SSL_KEY_PASSWORD_FILE")
SASL_ENV = ("KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME")
SASL_PASSWORD_ENV = ("KAFKA_SASL_PASSWORD", "KAFKA_SASL_PASSWORD_FILE")
ALLOW_PLAINTEXT_ENV = "KAFKA_SASL_ALLOW_PLAINTEXT"


@dataclass(frozen=True)
class KafkaSecurity:
    """PLAINTEXT by default (the local broker). Secrets are ``Secret``: ``repr`` masks them."""

    protocol: str = "PLAINTEXT"
    # PEM files. No CA file: the system's trust store (public CAs: MSK, Confluent Cloud).
    ca_file: Path | None = None
    cert_file: Path | None = None  # client certificate (mutual TLS), with key_file
    key_file: Path | None = None
    key_password: Secret | None = None  # of an encrypted key_file
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: Secret | None = None

    @property
    def tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    def ssl_context(self) -> ssl.SSLContext:
        """Verifies the broker's certificate and host name against ``ca_file`` (or the system's
        CAs); presents the client certificate when one is set. Raises ssl.SSLError/OSError."""
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH, cafile=str(self.ca_file) if self.ca_file else None
        )
        if self.cert_file is not None:
            # Without a password, OpenSSL would prompt on the terminal for an encrypted key.
            password = self.key_password.reveal() if self.key_password else _no_password
            context.load_cert_chain(self.cert_file, self.key_file, password)
        return context

    def aiokafka_args(self) -> dict[str, Any]:
        """Keyword arguments of AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
        args: dict[str, Any] = {"security_protocol": self.protocol}
        if self.tls:
            args["ssl_context"] = self.ssl_context()
        if self.sasl:
            assert self.sasl_password is not None, "checked by load_security"
            args["sasl_mechanism"] = self.sasl_mechanism
            # aiokafka's names; they carry SCRAM credentials too
            args["sasl_plain_username"] = self.sasl_username
            args["sasl_plain_password"] = self.sasl_password.reveal()
        return args

    def librdkafka_config(self) -> dict[str, str]:
        """librdkafka's keys for the same settings (confluent-kafka, quixstreams)."""
        config = {"security.protocol": self.protocol.lower()}
        if self.tls:
            # librdkafka verifies the host name by default (ssl.endpoint.identification
            # .algorithm=https); without a CA file it must be told to use the system's CAs.
            config["ssl.ca.location"] = str(self.ca_file) if self.ca_file else "probe"
            if self.cert_file is not None and self.key_file is not None:
                config["ssl.certificate.location"] = str(self.cert_file)
                config["ssl.key.location"] = str(self.key_file)
            if self.key_password is not None:
                config["ssl.key.password"] = self.key_password.reveal()
        if self.sasl:
            assert self.sasl_mechanism, "checked by load_security"
            assert self.sasl_username, "checked by load_security"
            assert self.sasl_password, "checked by load_security"
            config["sasl.mechanism"] = self.sasl_mechanism
            config["sasl.username"] = self.sasl_username
            config["sasl.password"] = self.sasl_password.reveal()
        return config

    def env(self) -> dict[str, str]:
        """The environment that makes a child process read these settings back; a secret read
        from a file is passed as that file, not as its value."""
        env = {PROTOCOL_ENV: self.protocol}
        for name, path in zip(TLS_ENV, (self.ca_file, self.cert_file, self.key_file), strict=True):
            if path is not None:
                env[name] = str(path)
        env.update(_secret_env(self.key_password, KEY_PASSWORD_ENV))
        if self.sasl_mechanism and self.sasl_username:
            env.update(zip(SASL_ENV, (self.sasl_mechanism, self.sasl_username), strict=True))
        env.update(_secret_env(self.sasl_password, SASL_PASSWORD_ENV))
        if self.protocol == "SASL_PLAINTEXT":
            env[ALLOW_PLAINTEXT_ENV] = "true"
        return env

    def describe(self) -> dict[str, object]:
        """A printable view: secrets masked, unset values left out."""
        out: dict[str, object] = {"security.protocol": self.protocol}
        for name in ("ca_file", "cert_file", "key_file", "sasl_mechanism", "sasl_username"):
            value = getattr(self, name)
            if value is not None:
                out[f"security.{name}"] = str(value)
        for name in ("key_password", "sasl_password"):
            secret: Secret | None = getattr(self, name)
            if secret is not None:
                where = f" (from {secret.source})" if secret.source else ""
                out[f"security.{name}"] = f"***{where}"
        return out


def _no_password() -> str:
    return ""


def _secret_env(secret: Secret | None, names: tuple[str, str]) -> dict[str, str]:
    if secret is None:
        return {}
    if secret.source is not None:
        return {names[1]: str(secret.source)}
    return {names[0]: secret.reveal()}


def load_security(read: Env) -> KafkaSecurity:
    """Read and check the TLS and SASL settings; SettingsError names what to change."""
    protocol = read.text(PROTOCOL_ENV, "PLAINTEXT").upper()
    if protocol not in PROTOCOLS:
        raise SettingsError(f"{PROTOCOL_ENV}={protocol!r} must be one of {', '.join(PROTOCOLS)}")
    ca, cert, key = (read.file(name) for name in TLS_ENV)
    key_password = read.secret(*KEY_PASSWORD_ENV)
    mechanism = read.optional(SASL_ENV[0])
    username = read.optional(SASL_ENV[1])
    password = read.secret(*SASL_PASSWORD_ENV)
    security = KafkaSecurity(protocol, ca, cert, key, key_password)
    if not security.tls:
        given = [n for n, v in zip(TLS_ENV, (ca, cert, key), strict=True) if v] + (
            [KEY_PASSWORD_ENV[0]] if key_password else []
        )
        if given:
            raise SettingsError(
                f"{given[0]} is set but {PROTOCOL_ENV}={protocol} does not use TLS: set "
                f"{PROTOCOL_ENV}=SSL or SASL_SSL"
            )
    if (cert is None) != (key is None):
        raise SettingsError(
            "a client certificate needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE"
        )
    if key_password is not None and key is None:
        raise SettingsError(f"{KEY_PASSWORD_ENV[0]} is set but KAFKA_SSL_KEY_FILE is not")
    if not security.sasl:
        given = [n for n, v in zip(SASL_ENV, (mechanism, username), strict=True) if v]
        given += [SASL_PASSWORD_ENV[0]] if password else []
        if given:
            raise SettingsError(
                f"{given[0]} is set but {PROTOCOL_ENV}={protocol} does not use SASL: set "
                f"{PROTOCOL_ENV}=SASL_SSL"
            )
        _check_tls_files(security)
        return security
    if protocol == "SASL_PLAINTEXT" and not read.flag(ALLOW_PLAINTEXT_ENV):
        raise SettingsError(
            f"{PROTOCOL_ENV}=SASL_PLAINTEXT sends the credentials and every record unencrypted: "
            f"use SASL_SSL, or set {ALLOW_PLAINTEXT_ENV}=true on a network you trust"
        )
    if mechanism is None:
        raise SettingsError(f"{PROTOCOL_ENV}={protocol} needs KAFKA_SASL_MECHANISM "
                            f"({', '.join(MECHANISMS)})")  # fmt: skip
    mechanism = mechanism.upper()
    if mechanism not in MECHANISMS:
        raise SettingsError(f"KAFKA_SASL_MECHANISM={mechanism!r} must be one of "
                            f"{', '.join(MECHANISMS)}")  # fmt: skip
    if username is None:
        raise SettingsError(f"{PROTOCOL_ENV}={protocol} needs KAFKA_SASL_USERNAME")
    if password is None:
        raise SettingsError(
            f"{PROTOCOL_ENV}={protocol} needs {SASL_PASSWORD_ENV[0]} or {SASL_PASSWORD_ENV[1]}"
        )
    security = KafkaSecurity(protocol, ca, cert, key, key_password, mechanism, username, password)
    _check_tls_files(security)
    return security


def _check_tls_files(security: KafkaSecurity) -> None:
    """Load the PEM files once at start, so a wrong file stops the process with its name
    instead of failing every connection later."""
    if not security.tls:
        return
    try:
        ssl.create_default_context(cafile=str(security.ca_file) if security.ca_file else None)
    except (ssl.SSLError, OSError) as exc:
        raise SettingsError(f"KAFKA_SSL_CA_FILE={str(security.ca_file)!r} holds no usable PEM "
                            f"certificate ({exc})") from None  # fmt: skip
    try:
        security.ssl_context()
    except (ssl.SSLError, OSError) as exc:
        raise SettingsError(
            f"KAFKA_SSL_CERT_FILE={str(security.cert_file)!r} and KAFKA_SSL_KEY_FILE="
            f"{str(security.key_file)!r} are not a usable certificate and key ({exc}; "
            "an encrypted key needs KAFKA_SSL_KEY_PASSWORD)"
        ) from None
