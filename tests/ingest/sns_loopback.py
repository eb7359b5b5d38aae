"""A stand-in for Amazon SNS on 127.0.0.1, for the tests: a test CA, a server certificate for
127.0.0.1 signed by it, an HTTPS server serving a signing certificate and answering
ConfirmSubscription, and a signer making bodies as SNS signs them. The ingress is told to
trust it with an ``SnsTrust`` (its host, port and CA): the production rule is not touched."""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from ingest.snsmessage import string_to_sign
from ingest.snstrust import SnsTrust

CERT_PATH = "/SimpleNotificationService-loopback.pem"
NOW = dt.datetime.now(dt.UTC)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _cert(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: rsa.RSAPrivateKey,
    ca: bool = False,
    ip: str | None = None,
    days: int = 2,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer is not None else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))  # make_app's clock is 2025
        .not_valid_after(NOW + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    if ip is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), False
        )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class LoopbackSns:
    port: int
    ca_file: Path
    signing_key: rsa.RSAPrivateKey
    # what the server was asked: (path with query) in order
    requests: list[str] = field(default_factory=list)
    confirm_status: int = 200
    cert_body: bytes = b""

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def trust(self) -> SnsTrust:
        return SnsTrust(host_pattern=r"127\.0\.0\.1", port=self.port, ca_file=str(self.ca_file))

    def cert_requests(self) -> int:
        return sum(1 for r in self.requests if r.endswith(".pem"))

    def confirmations(self) -> list[str]:
        return [r for r in self.requests if "Action=ConfirmSubscription" in r]

    def subscribe_url(self, topic_arn: str, token: str) -> str:
        query = f"Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}"
        return f"{self.base}/?{query}"

    def sign(self, message: dict[str, Any], key: rsa.RSAPrivateKey | None = None) -> dict[str, Any]:
        """``message`` with this server's URLs and SNS's signature (by ``key`` if given)."""
        out = dict(message)
        out["SigningCertURL"] = self.base + CERT_PATH
        if "SubscribeURL" in out:
            out["SubscribeURL"] = self.subscribe_url(out["TopicArn"], out["Token"])
        if "UnsubscribeURL" in out:
            arn = quote(out["TopicArn"] + ":sub", safe=":")
            out["UnsubscribeURL"] = f"{self.base}/?Action=Unsubscribe&SubscriptionArn={arn}"
        digest = hashes.SHA1() if out["SignatureVersion"] == "1" else hashes.SHA256()
        signed = (key or self.signing_key).sign(string_to_sign(out), padding.PKCS1v15(), digest)
        out["Signature"] = base64.b64encode(signed).decode()
        return out

    def signed_body(self, path: Path, **changes: Any) -> bytes:
        """A sample file, changed, pointed at this server and signed."""
        message = json.loads(path.read_text()) | changes
        return json.dumps(self.sign(message)).encode()


@contextmanager
def loopback_sns(tmp: Path) -> Iterator[LoopbackSns]:
    ca_key, server_key, signing_key = _key(), _key(), _key()
    ca = _cert("alertpipe test CA", ca_key, None, ca_key, ca=True)
    server = _cert("127.0.0.1", server_key, ca, ca_key, ip="127.0.0.1")
    signing = _cert("sns.amazonaws.com", signing_key, ca, ca_key)
    (tmp / "ca.pem").write_bytes(pem(ca))
    (tmp / "server.pem").write_bytes(pem(server))
    (tmp / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    state = LoopbackSns(0, tmp / "ca.pem", signing_key, cert_body=pem(signing))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            if self.path == CERT_PATH:
                status, body = 200, state.cert_body
            elif self.path.startswith("/?Action=ConfirmSubscription"):
                status = state.confirm_status
                body = (
                    b"<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>"
                    b"arn:aws:sns:us-east-1:123456789012:alertpipe-alarms:4f1e"
                    b"</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>"
                )
            else:
                status, body = 404, b"not here"
            self.send_response(status)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp / "server.pem", tmp / "server.key")
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
