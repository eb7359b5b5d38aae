"""The pure parts of the worker, e2e and state benches (no broker, no processes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aiokafka.structs import TopicPartition

from alertpipe.harness import WORKER_READY, Proc
from bench.e2e import P99_LIMIT_MS, holds
from bench.stack import GUARANTEES, log_time
from bench.state import incident_records
from bench.worker import committed_all
from ingest.logs import JsonFormatter


def tp(topic: str, partition: int = 0) -> TopicPartition:
    return TopicPartition(topic, partition)


def test_drained_means_every_input_partition_committed_to_its_end() -> None:
    ends = {tp("raw", 0): 10, tp("raw", 1): 0, tp("out", 0): 99}
    assert committed_all(ends, {tp("raw", 0): 10}, ["raw"])  # partition 1 never had a record
    assert not committed_all(ends, {tp("raw", 0): 9}, ["raw"])
    assert not committed_all(ends, {}, ["raw"])


def test_a_transactional_input_may_stop_short_of_its_commit_marker() -> None:
    ends = {tp("rep", 0): 11, tp("rep", 1): 0}
    assert committed_all(ends, {tp("rep", 0): 10}, ["rep"], frozenset(["rep"]))
    assert not committed_all(ends, {tp("rep", 0): 10}, ["rep"])
    assert not committed_all(ends, {tp("rep", 0): 9}, ["rep"], frozenset(["rep"]))


def test_each_guarantee_has_its_latency_target_and_exactly_once_comes_first() -> None:
    assert GUARANTEES[0] == "exactly-once"
    assert P99_LIMIT_MS == {"exactly-once": 250.0, "at-least-once": 100.0}
    run = {"p99_ms": 180.0, "delivered": 5000, "sent": 5000}
    assert holds(run, P99_LIMIT_MS["exactly-once"])
    assert not holds(run, P99_LIMIT_MS["at-least-once"])
    assert not holds({**run, "delivered": 4999}, P99_LIMIT_MS["exactly-once"])


def test_the_ready_marker_and_log_times_match_the_worker_json_logs(tmp_path: Path) -> None:
    import logging

    formatter = JsonFormatter()
    lines = []
    for created, msg in ((100.5, "Beginning recovery check..."), (102.25, "worker ready")):
        record = logging.LogRecord("alertpipe.worker", logging.INFO, "", 0, msg, None, None)
        record.created = created
        lines.append(formatter.format(record))
    log = tmp_path / "worker.log"
    log.write_text("not json\n" + "\n".join(lines) + "\n")
    popen = subprocess.Popen([sys.executable, "-c", "pass"])
    popen.wait()
    proc = Proc("worker", popen, log)
    assert WORKER_READY in proc.tail()
    assert log_time(proc, "Beginning recovery check") == 100.5
    assert log_time(proc, WORKER_READY) == 102.25
    assert log_time(proc, "Recovery process complete") is None


def test_one_raw_record_per_incident() -> None:
    records = incident_records(3)
    assert [k for k, _, _ in records] == [b"bench/state-0000000", b"bench/state-0000001",
                                          b"bench/state-0000002"]  # fmt: skip
    assert len({k for k, _, _ in records}) == 3
