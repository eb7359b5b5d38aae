"""The TLS and SASL settings: read from the environment or files, checked with errors that
name the variable, never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkaio.env import Env
from kafkaio.security import KafkaSecurity, load_security
from kafkaio.settings import SettingsError, describe, load_settings


@pytest.fixture
def ca_pem(other_ca: Path) -> Path:
    return other_ca


def sasl_ssl(ca: Path, **extra: str) -> dict[str, str]:
    return {
        "KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
        "KAFKA_SSL_CA_FILE": str(ca),
        "KAFKA_SASL_MECHANISM": "scram-sha-512",
        "KAFKA_SASL_USERNAME": "alertpipe",
        "KAFKA_SASL_PASSWORD": "hunter2-secret",
        **extra,
    }


def test_plaintext_by_default() -> None:
    assert load_settings({}).security == KafkaSecurity()
    assert KafkaSecurity().aiokafka_args() == {"security_protocol": "PLAINTEXT"}


def test_sasl_ssl_from_the_environment(ca_pem: Path) -> None:
    security = load_settings(sasl_ssl(ca_pem)).security
    assert (security.protocol, security.sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-512")
    args = security.aiokafka_args()
    assert args["sasl_plain_username"] == "alertpipe"
    assert args["sasl_plain_password"] == "hunter2-secret"
    assert args["ssl_context"].check_hostname


def test_the_password_from_a_file(ca_pem: Path, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-a-file\n")  # as `echo` or a Secret written by hand leaves it
    env = sasl_ssl(ca_pem, KAFKA_SASL_PASSWORD_FILE=str(secret))
    del env["KAFKA_SASL_PASSWORD"]
    security = load_security(Env(env))
    assert security.librdkafka_config()["sasl.password"] == "from-a-file"
    # a child process gets the file, not the value
    assert security.env()["KAFKA_SASL_PASSWORD_FILE"] == str(secret)
    assert "KAFKA_SASL_PASSWORD" not in security.env()
    assert load_security(Env(security.env())) == security


def test_secrets_are_never_printed(ca_pem: Path, tmp_path: Path) -> None:
    key_password = tmp_path / "key-password"
    key_password.write_text("key-secret")
    settings = load_settings(sasl_ssl(ca_pem))
    shown = [repr(settings), str(settings), repr(settings.security), str(describe(settings))]
    assert all("hunter2" not in text for text in shown)
    assert describe(settings)["security.sasl_password"] == "***"
    assert describe(settings)["security.sasl_username"] == "alertpipe"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "must be one of PLAINTEXT, SSL"),
        ({"KAFKA_SASL_USERNAME": "u"}, "KAFKA_SASL_USERNAME is set but .*=PLAINTEXT does not"),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SASL_PASSWORD": "p"}, "does not use SASL"),
        ({"KAFKA_SSL_CA_FILE": "/nonexistent/ca.pem"}, "'/nonexistent/ca.pem': no such file"),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs KAFKA_SASL_MECHANISM"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "GSSAPI"},
            "must be one of PLAIN, SCRAM",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN"},
            "needs KAFKA_SASL_USERNAME",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN",
             "KAFKA_SASL_USERNAME": "u"},
            "needs KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE",
        ),
        (
            {"KAFKA_SASL_PASSWORD": "p", "KAFKA_SASL_PASSWORD_FILE": "/x"},
            "set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both",
        ),
        ({"KAFKA_SASL_PASSWORD_FILE": "/nonexistent/pw"}, "cannot be read"),
    ],
)  # fmt: skip
def test_bad_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_sasl_without_tls_only_when_allowed() -> None:
    env = {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
           "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p"}  # fmt: skip
    with pytest.raises(SettingsError, match="unencrypted: use SASL_SSL, or set KAFKA_SASL_ALLOW"):
        load_settings(env)
    allowed = load_settings({**env, "KAFKA_SASL_ALLOW_PLAINTEXT": "true"}).security
    assert allowed.aiokafka_args()["security_protocol"] == "SASL_PLAINTEXT"
    assert "ssl_context" not in allowed.aiokafka_args()
    assert load_security(Env(allowed.env())) == allowed


def test_an_unusable_ca_file_is_named(tmp_path: Path) -> None:
    junk = tmp_path / "ca.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(SettingsError, match=f"KAFKA_SSL_CA_FILE='{junk}' holds no usable PEM"):
        load_settings({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CA_FILE": str(junk)})


def test_a_client_certificate_needs_its_key(ca_pem: Path, tmp_path: Path) -> None:
    env = {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERT_FILE": str(ca_pem)}
    with pytest.raises(SettingsError, match="needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY"):
        load_settings(env)
    bad_key = tmp_path / "key.pem"
    bad_key.write_text("no key here\n")
    with pytest.raises(SettingsError, match="are not a usable certificate and key"):
        load_settings({**env, "KAFKA_SSL_KEY_FILE": str(bad_key)})


def test_tls_without_a_ca_file_uses_the_system_trust_store() -> None:
    security = load_settings({"KAFKA_SECURITY_PROTOCOL": "SSL"}).security
    assert security.librdkafka_config() == {"security.protocol": "ssl", "ssl.ca.location": "probe"}
    assert security.ssl_context().verify_mode.name == "CERT_REQUIRED"
