"""``alertpipe.children.stop_child``: SIGTERM first, SIGKILL after the grace period."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from alertpipe.children import stop_child


def child(code: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    with proc.stdout:
        assert proc.stdout.readline() == b"ready\n"  # its signal handlers are in place
    return proc


def test_a_child_that_honours_sigterm_exits_on_it() -> None:
    proc = child("import time; print('ready', flush=True); time.sleep(60)")
    assert stop_child(proc, grace=10) == -signal.SIGTERM


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    proc = child(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    started = time.monotonic()
    assert stop_child(proc, grace=0.5) == -signal.SIGKILL
    assert time.monotonic() - started >= 0.5


def test_an_exited_child_keeps_its_status() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait()
    assert stop_child(proc) == 3
