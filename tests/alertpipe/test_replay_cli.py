"""`alertpipe replay` (and the errors of every reading command) on the real broker, without a
worker: raw records are written directly, as the ingress writes them."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
from dataclasses import dataclass

import pytest

from alertpipe.harness import fresh_topics
from alertpipe.ports import free_port
from bench.stage1 import mixed_records, prefill
from kafkaio.settings import TopicSettings, kafka_env

CLI = [sys.executable, "-m", "alertpipe.cli"]
RECORDS = 5000


@dataclass
class Prefilled:
    topics: TopicSettings
    env: dict[str, str]


@pytest.fixture(scope="module")
def prefilled(kafka_bootstrap: str) -> Prefilled:
    """Fresh topics whose raw topic holds RECORDS mixed records (every source, repeats, bad
    bodies), written just now."""
    topics = asyncio.run(fresh_topics(kafka_bootstrap, partitions=3))
    asyncio.run(prefill(kafka_bootstrap, topics.raw, mixed_records(RECORDS)))
    return Prefilled(topics, {**os.environ, **kafka_env(kafka_bootstrap, topics)})


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_whole_range_by_time(prefilled: Prefilled) -> None:
    done = run(prefilled.env, "replay", "--since", "1h", "--json")
    assert done.returncode == 0, done.stderr
    outcomes = [json.loads(line) for line in done.stdout.splitlines()]
    assert len({o["ref"] for o in outcomes}) == RECORDS
    assert all(o["ref"].startswith(f"{prefilled.topics.raw}:") for o in outcomes)
    kinds = {o["outcome"] for o in outcomes}
    assert kinds == {"alert", "suppressed", "dead_letter"}
    assert f"{RECORDS} of {RECORDS} records" in done.stderr
    assert "dry run: nothing was written to Kafka" in done.stderr
    later = run(prefilled.env, "replay", "--since", "2099-01-01T00:00Z", "-q")
    assert later.returncode == 0, later.stderr
    assert "0 of 0 records" in later.stderr


def test_a_range_by_offsets_is_inclusive(prefilled: Prefilled) -> None:
    done = run(
        prefilled.env, "replay", "--partition", "1", "--from-offset", "10", "--to-offset", "19",
        "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    refs = {json.loads(line)["ref"] for line in done.stdout.splitlines()}
    assert refs == {f"{prefilled.topics.raw}:1:{offset}" for offset in range(10, 20)}


def test_the_table_and_the_filters(prefilled: Prefilled) -> None:
    done = run(prefilled.env, "replay", "--since", "1h", "--source", "pingometer")
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split()[:4] == ["TIME", "REF", "ORG", "SOURCE"]
    assert rows
    assert all(row.split()[3] == "pingometer" for row in rows)
    assert all(row.split()[1].startswith(f"{prefilled.topics.raw}:") for row in rows)
    assert "\x1b[" not in done.stdout  # no colour codes when not on a terminal
    nobody = run(prefilled.env, "replay", "--since", "1h", "--org", "nobody", "-q")
    assert nobody.returncode == 0, nobody.stderr
    assert f"{RECORDS} not shown (filters)" in nobody.stderr


def test_ctrl_c_stops_cleanly_with_the_summary_so_far(prefilled: Prefilled) -> None:
    """The output pipe is not read until after Ctrl-C, so the replay is blocked mid-range."""
    with subprocess.Popen(
        [*CLI, "replay", "--since", "1h", "--json"],
        env=prefilled.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        assert json.loads(proc.stdout.readline())["outcome"]  # it is running
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    [line] = [x for x in err.splitlines() if x.startswith("interrupted: stopped after")]
    stopped_after = int(line.split()[3])
    assert 0 < stopped_after < RECORDS
    assert "alerts: " in err
    assert "Traceback" not in err
    assert 0 < len(out.splitlines()) + 1 <= stopped_after * 2  # the lines of what was replayed


def test_a_progress_bar_on_a_terminal_only(prefilled: Prefilled) -> None:
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    try:
        done = subprocess.run(
            [*CLI, "replay", "--since", "1h", "-q"],
            env=prefilled.env,
            stdout=subprocess.DEVNULL,
            stderr=follower,
            timeout=120,
            check=False,
        )
        os.close(follower)
        follower = -1
        screen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            screen += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert done.returncode == 0
    text = screen.decode(errors="replace")
    assert "rec/s" in text
    assert f"{RECORDS}/{RECORDS}" in text.replace("5.00k", str(RECORDS))
    piped = run(prefilled.env, "replay", "--since", "1h", "-q")
    assert "rec/s" not in piped.stderr


BIG = str(10**9)


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        (
            ["replay", "--since", "1h"],
            {"KAFKA_BOOTSTRAP_SERVERS": "dead"},
            69,
            "cannot reach Kafka",
        ),
        (["explain", "raw:0:0"], {"KAFKA_BOOTSTRAP_SERVERS": "dead"}, 69, "cannot reach Kafka"),
        (["tail", "raw"], {"KAFKA_BOOTSTRAP_SERVERS": "dead"}, 69, "cannot reach Kafka"),
        (["dlq", "redrive"], {"KAFKA_BOOTSTRAP_SERVERS": "dead"}, 69, "cannot reach Kafka"),
        (["replay", "--since", "1h"], {"ALERTPIPE_TOPIC_RAW": "nope"}, 1, "unknown topic nope"),
        (["tail", "dead-letter"], {"ALERTPIPE_TOPIC_DEAD_LETTER": "nope"}, 1, "unknown topic"),
        (["explain", "nope:0:0"], {}, 1, "unknown topic nope"),
        (["replay", "--partition", "0", "--from-offset", BIG], {}, 1, f"offset {BIG} is out of"),
        (["replay", "--partition", "7"], {}, 1, "has no partition 7 (it has partitions 0-2)"),
        (["explain", "{raw}:0:" + BIG], {}, 1, f"offset {BIG} is out of range"),
        (["explain", "{raw}:zero:1"], {}, 2, "use topic:partition:offset"),
        (["replay", "--since", "1h", "--from-offset", "1"], {}, 2, "need --partition"),
        (["replay"], {}, 2, "give a range"),
        (["replay", "--since", "soon"], {}, 2, "is not a time"),
        (["replay", "--since", "1h", "--to-topic", "{normalized}"], {}, 2, "add --yes"),
        (["replay", "--since", "1h", "--to-topic", "{raw}"], {}, 2, "is the raw topic"),
        (["replay", "--since", "1h", "--to-topic", "nope"], {}, 1, "unknown topic nope"),
    ],
)
def test_errors_a_person_can_act_on(
    prefilled: Prefilled, args: list[str], env: dict[str, str], code: int, message: str
) -> None:
    """One clear line on stderr and a non-zero exit code; nothing on stdout."""
    names = {"raw": prefilled.topics.raw, "normalized": prefilled.topics.normalized}
    if env.get("KAFKA_BOOTSTRAP_SERVERS") == "dead":
        env = {"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}
    done = run({**prefilled.env, **env}, *(a.format(**names) for a in args), "--timeout", "5")
    assert done.returncode == code, done.stderr
    assert message in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 or lines[0].startswith("Usage:"), done.stderr  # click's usage errors
    assert done.stdout == ""
