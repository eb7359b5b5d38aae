"""A real `alertpipe ingress` (uvicorn) process on a free loopback port, driven like a user would:
keys enabled and revoked through the CLI while it runs, a slow client, SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from alertpipe.harness import fresh_topics
from alertpipe.ports import free_port
from kafkaio.settings import TopicSettings, kafka_env
from tests.ingest.kafka_helpers import ingress_process

CLI = [sys.executable, "-m", "alertpipe.cli"]


@dataclass
class Server:
    base_url: str
    port: int
    env: dict[str, str]
    proc: subprocess.Popen[str]


def topic_env(bootstrap: str, topics: TopicSettings) -> dict[str, str]:
    return {
        **os.environ,
        **kafka_env(bootstrap, topics),
    }


@pytest.fixture
def server(kafka_bootstrap: str) -> Iterator[Server]:
    topics = asyncio.run(fresh_topics(kafka_bootstrap, partitions=1))
    port = free_port()
    env = {**topic_env(kafka_bootstrap, topics), "ALERTPIPE_HEADER_TIMEOUT_S": "1"}
    with ingress_process(env, port, timeout=30) as proc:
        yield Server(f"http://127.0.0.1:{port}", port, env, proc)


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def first_time(predicate: Callable[[], object], timeout: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def test_keys_enabled_and_revoked_with_the_cli_are_honoured_within_5s(server: Server) -> None:
    enabled = json.loads(
        cli(
            server.env,
            "integrations",
            "enable",
            "generic",
            "--org",
            "acme",
            "--base-url",
            server.base_url,
            "--json",
        )
    )
    assert set(enabled) >= {"url", "key", "key_id", "org", "source"}
    assert enabled["url"].endswith(
        f"/integrations/generic/20131114/alert/{enabled['key']}/$routing_key"
    )
    url = enabled["url"].replace("$routing_key", "ops")

    def status() -> int:
        return httpx.post(
            url, content=b'{"message_type":"INFO"}', headers={"content-type": "application/json"}
        ).status_code

    accepted_after = first_time(lambda: status() == 200, timeout=5.0)
    assert accepted_after is not None, "enabled key not accepted within 5s"

    listed = cli(server.env, "integrations", "list", "--org", "acme")
    assert enabled["key_id"] in listed
    assert "active" in listed
    assert enabled["key"] not in listed

    assert "Revoked" in cli(server.env, "integrations", "revoke", enabled["key_id"])
    refused_after = first_time(lambda: status() == 404, timeout=5.0)
    assert refused_after is not None, "revoked key still accepted after 5s"
    assert "revoked" in cli(server.env, "integrations", "list", "--org", "acme")
    print(
        f"\nkey accepted {accepted_after:.2f}s after enable, refused {refused_after:.2f}s "
        "after revoke"
    )


def test_a_client_that_never_finishes_its_headers_is_cut_off(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /integrations/generic/v1/x/y HTTP/1.1\r\nHost: a\r\n")
        started = time.monotonic()
        try:
            while sock.recv(1024):  # trickle one header byte at a time, slowloris style
                pass
        except OSError:
            pass
        assert time.monotonic() - started < 5  # header timeout is 1 s in this test


def test_sigterm_stops_the_server_cleanly(server: Server) -> None:
    server.proc.send_signal(signal.SIGTERM)
    # uvicorn re-raises the signal once its graceful shutdown is done, so -SIGTERM is normal.
    assert server.proc.wait(timeout=30) in (0, -signal.SIGTERM)
    assert server.proc.stdout is not None
    log = server.proc.stdout.read()
    assert "Application shutdown complete" in log  # lifespan ran: the producer was flushed
    assert "Traceback" not in log


def test_two_worker_processes_read_their_settings_and_both_serve(kafka_bootstrap: str) -> None:
    """With --workers, uvicorn starts each process from an import string: the cluster the CLI
    chose reaches them through the environment, and /metrics sums them."""
    topics = asyncio.run(fresh_topics(kafka_bootstrap, partitions=1))
    env = {**topic_env(kafka_bootstrap, topics)}
    port = free_port()
    with ingress_process(env, port, 60, "--workers", "2") as proc:
        base = f"http://127.0.0.1:{port}"
        enabled = json.loads(
            cli(env, "integrations", "enable", "generic", "--org", "acme", "--base-url", base,
                "--json")
        )  # fmt: skip
        url = enabled["url"].replace("$routing_key", "ops")
        body, json_type = b'{"message_type":"INFO"}', {"content-type": "application/json"}
        ok = first_time(
            lambda: httpx.post(url, content=body, headers=json_type).status_code == 200, 10
        )
        assert ok is not None, "the key was not accepted within 10s"
        statuses = [httpx.post(url, content=body, headers=json_type).status_code for _ in range(20)]
        assert statuses == [200] * 20
        assert proc.poll() is None
        # every answered request counted once, whichever process answered it
        text = httpx.get(f"{base}/metrics").text
        counted = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("alertpipe_ingress_requests_total{")
            and 'source="generic"' in line
            and 'status="200"' in line
        )
        assert counted >= 21
