"""Why a client could not connect, in words: aiokafka reports every failed bootstrap as
"Unable to bootstrap from [...]" and logs the cause, so after a failure one connection is
opened to the first bootstrap address with the same settings and its error is named (an
untrusted certificate, a refused password, a listener that does not speak TLS, a client
certificate missing or refused)."""

from __future__ import annotations

import asyncio
import ssl

from aiokafka import errors
from aiokafka.conn import create_conn

from kafkaio.clients import KafkaTarget, connection
from kafkaio.security import KafkaSecurity

# The alerts of a broker that wants a client certificate (Kafka's JVM answers "bad
# certificate" to none, "certificate unknown" to one it does not trust; others send these).
CLIENT_CERTIFICATE_ALERTS = (
    "BAD_CERTIFICATE", "CERTIFICATE_REQUIRED", "CERTIFICATE_UNKNOWN", "UNKNOWN_CA"
)  # fmt: skip


async def connection_problem(kafka: KafkaTarget, timeout: float = 5.0) -> str | None:
    """What stops a connection to the first bootstrap address; None if it connects (or the
    cause is unknown: then the client's own error says what is known)."""
    target = connection(kafka)
    security = target.security
    first = target.bootstrap_servers.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    args = security.aiokafka_args()
    try:
        async with asyncio.timeout(timeout):
            conn = await create_conn(
                host.strip("[]") or first,
                int(port or 9092),
                request_timeout_ms=int(timeout * 1000),
                **args,
            )
        conn.close()
        return None
    except ssl.SSLCertVerificationError as exc:
        return (
            f"TLS: the broker's certificate is not trusted ({exc.verify_message}); is "
            "KAFKA_SSL_CA_FILE the CA that signed it?"
        )
    except ssl.SSLError as exc:
        return certificate_refused(security, exc) or (
            f"TLS handshake failed ({exc.reason or exc}); does this listener use "
            f"KAFKA_SECURITY_PROTOCOL={security.protocol}?"
        )
    except errors.SaslAuthenticationFailed:
        return (
            f"SASL authentication failed for user {security.sasl_username!r} with "
            f"{security.sasl_mechanism}: check KAFKA_SASL_USERNAME and the password"
        )
    except errors.UnsupportedSaslMechanismError as exc:
        return f"the broker does not offer KAFKA_SASL_MECHANISM={security.sasl_mechanism} ({exc})"
    except (TimeoutError, errors.KafkaTimeoutError, ConnectionRefusedError):
        return None  # nothing there (yet): the client's own error says so
    except errors.KafkaConnectionError as exc:
        # TLS 1.3: the broker checks the client's certificate after the client's side of the
        # handshake is done, so its alert ends the first request, as this error's cause.
        cause = exc.__cause__
        refused = certificate_refused(security, cause) if isinstance(cause, ssl.SSLError) else None
        return refused or f"{type(exc).__name__}: {exc}"
    except (OSError, ValueError, errors.KafkaError) as exc:
        return f"{type(exc).__name__}: {exc}"


def certificate_refused(security: KafkaSecurity, exc: ssl.SSLError) -> str | None:
    """What to set or check when the broker's alert refuses the client certificate (or its
    absence); None for other TLS errors."""
    reason = exc.reason or ""
    if not reason.endswith(CLIENT_CERTIFICATE_ALERTS):
        return None
    if security.cert_file is None:
        return (
            f"the broker requires a client certificate (mutual TLS, {reason}): set "
            "KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE"
        )
    return (
        f"the broker refused the client certificate KAFKA_SSL_CERT_FILE="
        f"{str(security.cert_file)!r} ({reason}): is it signed by a CA the broker trusts?"
    )
