"""The ``make run`` supervisor: child processes in the foreground with prefixed logs.

Children get their own process group so Ctrl-C reaches only the supervisor, which then stops
them in reverse start order (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    name: str
    argv: Sequence[str]


async def _pump(name: str, stream: asyncio.StreamReader, width: int) -> None:
    while line := await stream.readline():
        sys.stdout.write(f"{name:<{width}} | {line.decode(errors='replace')}")
        sys.stdout.flush()


# A child exiting with this status asks to be started again (sysexits' EX_TEMPFAIL: the
# worker leaves this way when it must not commit, e.g. after being frozen past its session).
RESTART_STATUS = 75
MAX_RESTARTS = 10


async def _start(service: Service, env: Mapping[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *service.argv,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )


async def supervise(
    services: Sequence[Service], env: Mapping[str, str], *, grace: float = 15.0
) -> int:
    """Run ``services`` until Ctrl-C/SIGTERM or until one exits (one that exits with
    RESTART_STATUS is started again, up to MAX_RESTARTS times); returns an exit status."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    width = max((len(s.name) for s in services), default=0)
    procs: dict[str, asyncio.subprocess.Process] = {}
    pumps: list[asyncio.Task[None]] = []

    async def run(service: Service, started: asyncio.Event) -> int:
        for _ in range(MAX_RESTARTS + 1):
            proc = procs[service.name] = await _start(service, env)
            started.set()
            assert proc.stdout is not None
            pumps.append(asyncio.create_task(_pump(service.name, proc.stdout, width)))
            status = await proc.wait()
            if status != RESTART_STATUS:
                break
            print(f"{service.name} asked to be restarted (status {status}); restarting.")
        return status

    runs: list[asyncio.Task[int]] = []
    try:
        for service in services:
            started = asyncio.Event()
            runs.append(asyncio.create_task(run(service, started)))
            await started.wait()  # start in order: the next may depend on it
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopper, *runs], return_when=asyncio.FIRST_COMPLETED)
        status = 0
        for service, task in zip(services, runs, strict=True):
            if task in done:
                print(f"{service.name} exited with status {task.result()}; stopping the rest.")
                status = 1
        stopper.cancel()
        return status
    finally:
        for task in runs:
            task.cancel()
        for service in reversed(services):
            if service.name in procs:
                await _terminate(procs[service.name], grace)
        for pump in pumps:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(pump, timeout=2.0)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _terminate(proc: asyncio.subprocess.Process, grace: float) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), timeout=grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
