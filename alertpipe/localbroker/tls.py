"""A certificate authority and a broker certificate for the local broker's TLS listener, made
with the JDK's ``keytool`` (the broker needs Java anyway; no extra Python dependency).

The broker gets a PKCS#12 keystore (its key, its certificate signed by the CA, the CA); clients
get the CA as PEM (``KAFKA_SSL_CA_FILE``). The certificate names 127.0.0.1 and localhost, so
clients verify the host name as they would against a real cluster. Made once per state dir.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from alertpipe.localbroker.jars import LocalKafkaError

VALIDITY_DAYS = "3650"


@dataclass(frozen=True)
class BrokerTls:
    ca_pem: Path  # what clients trust
    keystore: Path  # PKCS#12: the broker's key and certificate chain
    password: str  # of the keystore and of its key (never shown to clients)


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
