"""``alertpipe kafka start --security sasl_ssl|ssl``: what makes the local broker's client
listener TLS + SASL, or mutual TLS (a client certificate required), and the client settings
that reach it (the same variables a real cluster needs).

The mode is fixed when the state dir is formatted (the SCRAM credentials are written then,
KIP-900); starting the same dir in another mode is refused rather than silently reformatted.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from alertpipe.localbroker.config import (
    CLIENT_MECHANISM,
    BrokerLayout,
    MutualTlsListener,
    SaslSslListener,
    SecureListener,
    scram_format_args,
)
from alertpipe.localbroker.jars import LocalKafkaError
from alertpipe.localbroker.tls import ClientTls, ensure_broker_tls, ensure_client_tls
from kafkaio.clients import KafkaConnection
from kafkaio.env import Env
from kafkaio.security import load_security

MODES = ("plaintext", "sasl_ssl", "ssl")
SASL_USER = "alertpipe"
MARKER = "formatted by alertpipe"


def marker_text(mode: str) -> str:
    return f"{MARKER}\n" if mode == "plaintext" else f"{MARKER} ({mode})\n"


def formatted_mode(layout: BrokerLayout) -> str | None:
    """The mode the data dir was formatted for; None when not formatted yet."""
    try:
        text = layout.formatted_marker.read_text()
    except OSError:
        return None
    _, _, mode = text.strip().partition("(")
    return mode.rstrip(")") or "plaintext"


def resolve_mode(layout: BrokerLayout, requested: str | None) -> str:
    """``requested``, or the state dir's own mode; LocalKafkaError when they differ."""
    found = formatted_mode(layout)
    if requested is None:
        return found or "plaintext"
    if requested not in MODES:
        raise LocalKafkaError(f"unknown security mode {requested!r} ({', '.join(MODES)})")
    if found is not None and found != requested:
        raise LocalKafkaError(
            f"{layout.state_dir} was formatted for --security {found}; stop the broker and use "
            f"another --state-dir (or delete this one) to run it with --security {requested}"
        )
    return requested


def secure_listener(layout: BrokerLayout, mode: str) -> SecureListener | None:
    """The client listener of ``mode`` (None: plaintext) with the CA, keystore and SASL
    password or client certificate of this state dir, made on first use."""
    if mode == "plaintext":
        return None
    tls = ensure_broker_tls(layout.tls_dir)
    if mode == "ssl":
        ensure_client_tls(tls)
        return MutualTlsListener(tls.keystore, tls.password, tls.ca_pem)
    if not layout.sasl_password_file.exists():
        new_password_file(layout, SASL_USER)
    password = layout.sasl_password_file.read_text().strip()
    return SaslSslListener(tls.keystore, tls.password, tls.ca_pem, SASL_USER, password)


def format_args(secure: SecureListener | None) -> list[str]:
    """What ``StorageTool format`` needs for this listener: the SCRAM credentials of SASL."""
    if isinstance(secure, SaslSslListener):
        return scram_format_args(secure.username, secure.password)
    return []


def password_file(layout: BrokerLayout, user: str) -> Path:
    """Where the password of ``user`` is kept (mode 0600): the broker's own user's, or one
    added with ``LocalBroker.add_user``."""
    if user == SASL_USER:
        return layout.sasl_password_file
    return layout.state_dir / f"sasl-password.{user}"


def new_password_file(layout: BrokerLayout, user: str) -> tuple[Path, str]:
    """A fresh random password for ``user``, written to its file (mode 0600)."""
    path = password_file(layout, user)
    path.touch(mode=0o600)
    password = secrets.token_urlsafe(24)
    path.write_text(password + "\n")
    return path, password


def client_env(
    layout: BrokerLayout, bootstrap: str, mode: str, user: str = SASL_USER
) -> dict[str, str]:
    """The variables a client of this broker sets (as ``user``, by default the super user):
    the password as a file, never inline; with ``ssl``, the client certificate and its key
    (encrypted, its password as a file)."""
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    if mode == "ssl":
        client = ClientTls.named(layout.tls_dir, "client")
        env.update(
            KAFKA_SECURITY_PROTOCOL="SSL",
            KAFKA_SSL_CA_FILE=str(layout.tls_dir / "ca.pem"),
            KAFKA_SSL_CERT_FILE=str(client.cert_pem),
            KAFKA_SSL_KEY_FILE=str(client.key_pem),
            KAFKA_SSL_KEY_PASSWORD_FILE=str(client.key_password_file),
        )
    if mode == "sasl_ssl":
        env.update(
            KAFKA_SECURITY_PROTOCOL="SASL_SSL",
            KAFKA_SSL_CA_FILE=str(layout.tls_dir / "ca.pem"),
            KAFKA_SASL_MECHANISM=CLIENT_MECHANISM,
            KAFKA_SASL_USERNAME=user,
            KAFKA_SASL_PASSWORD_FILE=str(password_file(layout, user)),
        )
    return env


def write_client_env(layout: BrokerLayout, env: dict[str, str]) -> Path:
    path = layout.client_env_file
    path.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    return path


def client_connection(layout: BrokerLayout, bootstrap: str, mode: str) -> KafkaConnection:
    """How a client reaches this broker, read through the settings code like any cluster's."""
    env = client_env(layout, bootstrap, mode)
    return KafkaConnection(bootstrap, load_security(Env(env)))
