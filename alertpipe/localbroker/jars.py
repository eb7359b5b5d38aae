"""Apache Kafka's jars for the local broker, resolved once with Maven from deploy/kafka/pom.xml
into an ignored cache folder, one folder per pom content so a version bump re-resolves."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from schemas.errors import AlertpipeError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
POM = PROJECT_ROOT / "deploy" / "kafka" / "pom.xml"
CACHE_DIR = PROJECT_ROOT / ".cache" / "kafka"

Echo = Callable[[str], None]


class LocalKafkaError(AlertpipeError, RuntimeError):
    """The local broker could not be prepared, started or stopped; the message says why."""


def resolve_jars(*, pom: Path = POM, cache_dir: Path = CACHE_DIR, echo: Echo = print) -> Path:
    """Return a folder of broker jars, running Maven only when the pom changed or none exist.

    Maven copies into a temporary folder that is renamed into place at the end, so an
    interrupted resolution never leaves a partial classpath behind.
    """
    if not pom.exists():
        raise LocalKafkaError(
            f"{pom} is missing: the local broker needs a source checkout of alertpipe. "
            "Set KAFKA_BOOTSTRAP_SERVERS to use an existing cluster instead."
        )
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16]
    libs = cache_dir / f"libs-{digest}"
    if libs.is_dir() and any(libs.glob("kafka_2.13-*.jar")):
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalKafkaError(
            "Maven (mvn) is needed once to fetch the Kafka broker's jars from Maven Central. "
            "Install Maven and Java 17+, or set KAFKA_BOOTSTRAP_SERVERS to use an existing cluster."
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".resolving-{digest}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    echo(f"Resolving Apache Kafka jars with Maven into {libs} (first run only)...")
    started = time.monotonic()
    proc = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={tmp}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise LocalKafkaError(f"Maven could not resolve the Kafka jars:\n{tail}")
    try:
        tmp.rename(libs)
    except OSError:  # another process finished first; its copy is as good as ours
        shutil.rmtree(tmp, ignore_errors=True)
    echo(f"Resolved Kafka jars in {time.monotonic() - started:.1f}s.")
    return libs
