"""Why a client could not connect, in words: aiokafka reports every failed bootstrap as
"Unable to bootstrap from [...]" and logs the cause, so after a failure one connection is
opened to the first bootstrap address with the same settings and its error is named (an
untrusted certificate, a refused password, a listener that does not speak TLS)."""

from __future__ import annotations

import asyncio
import ssl

from aiokafka import errors
from aiokafka.conn import create_conn

from kafkaio.clients import KafkaTarget, connection


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
        return (
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
    except (OSError, ValueError, errors.KafkaError) as exc:
        return f"{type(exc).__name__}: {exc}"
