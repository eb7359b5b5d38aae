from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from alertpipe.cli.run import console_env, pipeline_services
from alertpipe.devrun import Service, supervise


async def test_a_child_that_exits_stops_the_rest_with_status_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    services = [
        Service("sleeper-x", [sys.executable, "-c", "import time; time.sleep(60)"]),
        Service("quitter", [sys.executable, "-c", "print('bye', flush=True)"]),
    ]
    code = await asyncio.wait_for(supervise(services, os.environ, grace=5), timeout=30)
    assert code == 1
    out = capsys.readouterr().out
    assert "quitter   | bye" in out
    assert "quitter exited with status 0" in out


async def test_sigterm_stops_children_and_returns_0() -> None:
    marker = "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0));"
    services = [Service("child", [sys.executable, "-c", marker + " time.sleep(60)"])]
    loop = asyncio.get_running_loop()
    loop.call_later(1.0, os.kill, os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(supervise(services, os.environ, grace=5), timeout=30) == 0


async def test_a_child_exiting_with_75_is_started_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The worker exits with 75 when it must not commit (frozen past its session): the
    supervisor starts it again; a second run that exits 0 then stops the rest as usual."""
    marker = os.path.join(str(tmp_path), "ran-once")
    code = (
        f"import os, sys; m = {marker!r}\n"
        "if not os.path.exists(m):\n    open(m, 'w').close(); sys.exit(75)\n"
        "print('second run', flush=True)"
    )
    services = [
        Service("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"]),
        Service("worker", [sys.executable, "-c", code]),
    ]
    assert await asyncio.wait_for(supervise(services, os.environ, grace=5), timeout=30) == 1
    out = capsys.readouterr().out
    assert "worker asked to be restarted (status 75)" in out
    assert "worker  | second run" in out
    assert "worker exited with status 0" in out


def test_make_run_starts_the_console_on_loopback_with_its_token() -> None:
    names = [s.name for s in pipeline_services(8080)]
    assert names == ["ingress", "worker", "console"]  # stopped in reverse: the console first
    env = console_env("t" * 32, 8090, "http://127.0.0.1:8080", ("127.0.0.1", 9464))
    assert env["ALERTPIPE_CONSOLE_HOST"] == "127.0.0.1"
    assert env["ALERTPIPE_CONSOLE_WORKER_URL"] == "http://127.0.0.1:9464"
    assert console_env("t" * 32, 8090, "x", ("127.0.0.1", 0))["ALERTPIPE_CONSOLE_WORKER_URL"] == ""
