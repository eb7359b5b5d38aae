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


async def supervise(
    services: Sequence[Service], env: Mapping[str, str], *, grace: float = 15.0
) -> int:
    """Run ``services`` until Ctrl-C/SIGTERM or until one exits; returns an exit status."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    width = max((len(s.name) for s in services), default=0)
    procs: list[tuple[Service, asyncio.subprocess.Process]] = []
    pumps: list[asyncio.Task[None]] = []
    waits: list[asyncio.Task[int]] = []
    try:
        for service in services:
            proc = await asyncio.create_subprocess_exec(
                *service.argv,
                env=dict(env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
            assert proc.stdout is not None
            procs.append((service, proc))
            pumps.append(asyncio.create_task(_pump(service.name, proc.stdout, width)))
            waits.append(asyncio.create_task(proc.wait()))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopper, *waits], return_when=asyncio.FIRST_COMPLETED)
        status = 0
        for (service, proc), wait in zip(procs, waits, strict=True):
            if wait in done:
                print(f"{service.name} exited with status {proc.returncode}; stopping the rest.")
                status = 1
        stopper.cancel()
        return status
    finally:
        for _service, proc in reversed(procs):
            await _terminate(proc, grace)
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
