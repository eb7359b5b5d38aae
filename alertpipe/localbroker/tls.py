"""A certificate authority and a broker certificate for the local broker's TLS listener, made
with the JDK's ``keytool`` (the broker needs Java anyway), and for mutual TLS a client
certificate signed by the same CA, made with ``cryptography``: keytool cannot write a private
key as PEM, which is what clients read.

The broker gets a PKCS#12 keystore (its key, its certificate signed by the CA, the CA); clients
get the CA as PEM (``KAFKA_SSL_CA_FILE``). The certificate names 127.0.0.1 and localhost, so
clients verify the host name as they would against a real cluster. Made once per state dir.
"""

from __future__ import annotations

import datetime
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from alertpipe.localbroker.jars import LocalKafkaError

VALIDITY_DAYS = "3650"


@dataclass(frozen=True)
class BrokerTls:
    ca_pem: Path  # what clients trust
    keystore: Path  # PKCS#12: the broker's key and certificate chain
    password: str  # of the keystore and of its key (never shown to clients)

    @property
    def ca_store(self) -> Path:
        """PKCS#12: the CA's key and certificate, under ``password``."""
        return self.ca_pem.with_suffix(".p12")


@dataclass(frozen=True)
class ClientTls:
    """A client certificate and its encrypted key, PEM (``KAFKA_SSL_CERT_FILE``,
    ``KAFKA_SSL_KEY_FILE``), and the key's password in a file (mode 0600)."""

    cert_pem: Path
    key_pem: Path
    key_password_file: Path

    @classmethod
    def named(cls, directory: Path, name: str) -> ClientTls:
        return cls(directory / f"{name}.pem", directory / f"{name}-key.pem",
                   directory / f"{name}-key-password")  # fmt: skip


def keytool() -> str:
    found = shutil.which("keytool")
    if found is None:
        raise LocalKafkaError("keytool (from the JDK) is needed to make the local broker's TLS "
                              "certificates; install a JDK 17+")  # fmt: skip
    return found


def _run(args: list[str]) -> None:
    # A JVM per call: start it lean (C1 only, serial GC); each call is a fraction of a second.
    fast = ["-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", "-J-Xshare:auto"]
    proc = subprocess.run([keytool(), *args, *fast], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LocalKafkaError(f"keytool {args[0]} failed:\n{proc.stdout}{proc.stderr}")


def make_ca(directory: Path, name: str, password: str) -> Path:
    """A self-signed CA in ``directory/<name>.p12``; returns its certificate as PEM."""
    store, pem = directory / f"{name}.p12", directory / f"{name}.pem"
    _run(["-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048",
          "-dname", f"CN=alertpipe {name}", "-ext", "bc:c", "-ext", "KU:c=keyCertSign,cRLSign",
          "-validity", VALIDITY_DAYS, "-keystore", str(store), "-storetype", "PKCS12",
          "-storepass", password, "-keypass", password])  # fmt: skip
    _run(["-exportcert", "-alias", "ca", "-keystore", str(store), "-storepass", password,
          "-rfc", "-file", str(pem)])  # fmt: skip
    return pem


def ensure_broker_tls(directory: Path) -> BrokerTls:
    """The CA and the broker's keystore in ``directory``, made on first use."""
    keystore, ca_pem = directory / "broker.p12", directory / "ca.pem"
    password_file = directory / "store-password"
    if keystore.exists() and ca_pem.exists() and password_file.exists():
        return BrokerTls(ca_pem, keystore, password_file.read_text().strip())
    if directory.exists():
        shutil.rmtree(directory)  # half made: start again
    directory.mkdir(parents=True, mode=0o700)
    password = secrets.token_urlsafe(18)
    ca_store = directory / "ca.p12"
    csr, signed = directory / "broker.csr", directory / "broker.pem"
    make_ca(directory, "ca", password)
    common = ["-keystore", str(keystore), "-storepass", password]
    _run(["-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048",
          "-dname", "CN=127.0.0.1", "-validity", VALIDITY_DAYS, "-storetype", "PKCS12",
          "-keypass", password, *common])  # fmt: skip
    _run(["-certreq", "-alias", "broker", "-file", str(csr), *common])
    _run(["-gencert", "-alias", "ca", "-keystore", str(ca_store), "-storepass", password,
          "-infile", str(csr), "-outfile", str(signed), "-rfc", "-validity", VALIDITY_DAYS,
          "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-ext", "KU=digitalSignature,keyEncipherment",
          "-ext", "EKU=serverAuth,clientAuth"])  # fmt: skip
    _run(["-importcert", "-alias", "ca", "-file", str(ca_pem), "-noprompt", *common])
    _run(["-importcert", "-alias", "broker", "-file", str(signed), *common])
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    return BrokerTls(ca_pem, keystore, password)


def make_client_cert(ca_store: Path, ca_password: str, directory: Path, name: str) -> ClientTls:
    """A client certificate (CN=``name``, for client authentication only) signed by the CA in
    ``ca_store``, its EC P-256 key encrypted with a new random password; all in ``directory``
    as ``<name>.pem``, ``<name>-key.pem`` and ``<name>-key-password``."""
    ca_key, ca_cert, _ = pkcs12.load_key_and_certificates(
        ca_store.read_bytes(), ca_password.encode()
    )
    if not isinstance(ca_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) or ca_cert is None:
        raise LocalKafkaError(f"{ca_store} holds no CA key and certificate")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))  # clock skew
        .not_valid_after(now + datetime.timedelta(days=int(VALIDITY_DAYS)))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    found = ClientTls.named(directory, name)
    password = secrets.token_urlsafe(18)
    for path, text in (
        (found.key_password_file, password.encode() + b"\n"),
        (found.key_pem, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password.encode()),
        )),
        (found.cert_pem, cert.public_bytes(serialization.Encoding.PEM)),
    ):  # fmt: skip
        path.touch(mode=0o600)
        path.write_bytes(text)
    return found


def ensure_client_tls(broker: BrokerTls, name: str = "client") -> ClientTls:
    """The client certificate the broker's CA signed, made on first use (``--security ssl``)."""
    made = ClientTls.named(broker.ca_pem.parent, name)
    if all(path.exists() for path in (made.cert_pem, made.key_pem, made.key_password_file)):
        return made
    return make_client_cert(broker.ca_store, broker.password, broker.ca_pem.parent, name)
