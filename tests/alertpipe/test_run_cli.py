"""`alertpipe run` (what `make run` calls) brings up a broker and topics from nothing, and
Ctrl-C stops what it started."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from alertpipe.localbroker.broker import LocalBroker
from alertpipe.ports import free_port
from kafkaio.admin import answers
from schemas.registry import load_sources


def test_run_from_nothing_then_ctrl_c(tmp_path: Path) -> None:
    state_dir = tmp_path / "broker"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    env["ALERTPIPE_WORKER_METRICS_PORT"] = "0"
    env["ALERTPIPE_WORKER_DATA_DIR"] = str(tmp_path / "worker")
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "alertpipe.cli",
            "run",
            "--kafka-state-dir",
            str(state_dir),
            "--ingress-port",
            str(port),
            "--console-port",
            str(free_port()),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    ) as proc:
        try:
            _drive(proc, state_dir, port)
        finally:
            if proc.poll() is None:
                proc.kill()
            LocalBroker(state_dir, echo=lambda _: None).stop()


@pytest.mark.parametrize("which", ["ingress", "worker's metrics", "console"])
def test_a_taken_port_is_one_line_before_anything_starts(tmp_path: Path, which: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ports = {name: busy if name == which else free_port()
                 for name in ("ingress", "worker's metrics", "console")}  # fmt: skip
        env["ALERTPIPE_WORKER_METRICS_PORT"] = str(ports["worker's metrics"])
        done = subprocess.run(
            [sys.executable, "-m", "alertpipe.cli", "run", "--ingress-port", str(ports["ingress"]),
             "--console-port", str(ports["console"]),
             "--kafka-state-dir", str(tmp_path / "broker")],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: port {busy} (the {which})")
    assert "is in use" in line
    assert not (tmp_path / "broker").exists()  # no broker was started


def _drive(proc: subprocess.Popen[str], state_dir: Path, port: int) -> None:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C" in line:
            break
    output = "".join(lines)
    assert "Press Ctrl-C" in output, output
    for topic in (
        "alerts.raw",
        "alerts.normalized",
        "alerts.dead-letter",
        "alertpipe.integrations",
        "alertpipe.routes",
        "alertpipe.maintenance",
    ):
        assert f"created {topic}" in output
    status = LocalBroker(state_dir, echo=lambda _: None).status()
    assert status.running
    assert status.bootstrap_servers is not None
    assert answers(status.bootstrap_servers, timeout=5)
    urls = dict(re.findall(r"^  (\w+) +(http://\S+)$", output, re.MULTILINE))
    # every source with its own key and a key in the URL (PagerDuty's line adds the key)
    assert set(urls) == {
        name for name, info in load_sources().items() if not info.key_in_body and not info.keys_from
    }
    url = urls["generic"].replace("$routing_key", "ops")
    assert url.startswith(f"http://127.0.0.1:{port}/integrations/generic/20131114/alert/")
    assert _post_until_ready(url) == 200
    assert status.bootstrap_servers is not None
    alert = asyncio.run(_first_normalized(status.bootstrap_servers))
    assert alert["source"] == "generic"
    assert alert["org"] == "dev"
    assert alert["routing_key"] == "ops"
    assert alert["routing"] == {"requested": "ops", "reason": "matched", "teams": ["operations"],
                                "rule": None}  # fmt: skip
    assert "Routes of org 'dev': ops -> operations; any other key -> noc." in output
    assert f"Metrics: http://127.0.0.1:{port}/metrics (ingress)." in output  # worker's is off
    assert "tail -f` (alerts as they are delivered)" in output
    [console] = re.findall(r"^Console: (http://127\.0\.0\.1:\d+/\?token=[\w-]{32})$", output,
                           re.MULTILINE)  # fmt: skip
    assert _get_until_ready(console.split("?")[0]) == 401  # no token, no console
    page = _get_until_ready(console, text="Integrations")
    assert page == 200
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    assert not LocalBroker(state_dir, echo=lambda _: None).status().running


def _post_until_ready(url: str) -> int:
    """The ingress starts after the URLs are printed; give it a few seconds."""
    status = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status = httpx.post(
                url,
                content=b'{"message_type":"INFO"}',
                headers={"content-type": "application/json"},
            ).status_code
        except httpx.TransportError:
            status = 0
        if status == 200:
            break
        time.sleep(0.2)
    return status


def _get_until_ready(url: str, text: str = "") -> int:
    """The console starts after its URL is printed; the status once it answers (a 303 from
    ?token= followed to the page, which must hold ``text``)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            answer = httpx.get(url, follow_redirects=True)
            if text in answer.text:
                return answer.status_code
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.2)


async def _first_normalized(bootstrap: str) -> dict[str, object]:
    """The worker that `run` started turns the POST into a normalized alert."""
    consumer = AIOKafkaConsumer(
        "alerts.normalized",
        isolation_level="read_committed",
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        async with asyncio.timeout(60):
            while True:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        alert: dict[str, object] = json.loads(record.value)
                        return alert
    finally:
        await consumer.stop()
