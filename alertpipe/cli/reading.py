"""What the commands that read topics share (replay, explain, tail, dlq): range options, one
clear line per failure, Ctrl-C as a request to stop, the progress bar."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click
from tqdm import tqdm

from alertpipe.cli.common import EXIT_KAFKA_UNREACHABLE, EXIT_USAGE, fail
from alertpipe.jobs.ranges import RangeError, RangeRequest, RangeUsageError
from alertpipe.timespec import TimeSpecError, parse_time
from kafkaio.admin import KafkaUnreachable, fetch_cluster
from kafkaio.clients import KafkaTarget
from kafkaio.follower import TopicMissing
from kafkaio.settings import SettingsError
from processors.incidents import IncidentPolicy
from processors.maintenance import MaintenanceWindow
from processors.maintenancestore import read_windows
from processors.routestore import read_routes
from processors.routing import RoutingConfig

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader went away (`| head`)


class TimeParam(click.ParamType):
    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_time(str(value), int(time.time() * 1000))
        except TimeSpecError as exc:
            self.fail(str(exc), param, ctx)


TIME = TimeParam()
TIME_HELP = "ISO 8601 (2025-03-17T19:43Z; no zone = UTC) or an age: 90s, 30m, 2h, 1d, 1w"


def range_options(func: F) -> F:
    """--since/--until and --partition/--from-offset/--to-offset."""
    options = [
        click.option("--since", type=TIME, help=f"From this time. {TIME_HELP}."),
        click.option("--until", type=TIME, help="Up to (not including) this time. [default: now]"),
        click.option("--partition", type=click.IntRange(min=0), help="Only this partition."),
        click.option(
            "--from-offset", type=click.IntRange(min=0), help="First offset (needs --partition)."
        ),
        click.option(
            "--to-offset", type=click.IntRange(min=0), help="Last offset, included (--partition)."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def range_request(
    since: int | None,
    until: int | None,
    partition: int | None,
    from_offset: int | None,
    to_offset: int | None,
) -> RangeRequest:
    return RangeRequest(partition, from_offset, to_offset, since, until)


def run_reading(coro: Coroutine[Any, Any, T]) -> T:
    """Run one command's Kafka work; each way it can fail is one line and an exit code."""
    try:
        return asyncio.run(coro)
    except BrokenPipeError:
        # `| head` stopped reading: end quietly, and keep Python from complaining at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(EXIT_BROKEN_PIPE) from None
    except RangeUsageError as exc:
        fail(str(exc), EXIT_USAGE)
    except (RangeError, TopicMissing) as exc:
        fail(str(exc))
    except KafkaUnreachable as exc:
        fail(str(exc), EXIT_KAFKA_UNREACHABLE)
    except (TimeoutError, OSError) as exc:
        fail(f"Kafka did not answer in time ({exc!r})", EXIT_KAFKA_UNREACHABLE)
    except Exception as exc:
        if type(exc).__module__.startswith("aiokafka"):
            fail(f"Kafka error: {exc!r}", EXIT_KAFKA_UNREACHABLE)
        raise


def stop_on_ctrl_c() -> asyncio.Event:
    """An event set by the first Ctrl-C (the command then stops cleanly and reports); a
    second Ctrl-C interrupts at once. Call inside the running loop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def first() -> None:
        stop.set()
        loop.remove_signal_handler(signal.SIGINT)

    loop.add_signal_handler(signal.SIGINT, first)
    return stop


async def current_routes(
    bootstrap: KafkaTarget, topic: str, timeout: float
) -> dict[str, RoutingConfig]:
    """The routing configs as they are now (not as they were when a record arrived). Asks
    Kafka for metadata first, so an unreachable broker is one clear KafkaUnreachable."""
    await fetch_cluster(bootstrap, timeout)
    async with asyncio.timeout(timeout):
        return await read_routes(bootstrap, topic)


async def current_windows(
    bootstrap: KafkaTarget, topic: str, timeout: float
) -> dict[str, tuple[MaintenanceWindow, ...]]:
    """The maintenance windows by org as stored now, ended ones included (an ended window
    keeps its record, with ``until`` moved to when it ended)."""
    async with asyncio.timeout(timeout):
        return (await read_windows(bootstrap, topic)).by_org


def policy_or_exit() -> IncidentPolicy:
    """The incident TTLs the worker uses (ALERTPIPE_RESOLVED_TTL_S, ALERTPIPE_OPEN_TTL_S)."""
    from processors.settings import incident_policy, load_worker_settings

    try:
        return incident_policy(load_worker_settings())
    except SettingsError as exc:
        fail(f"bad setting: {exc}", EXIT_USAGE)


class ProgressBar:
    """Count, rate and ETA on stderr when stderr is a terminal (tqdm); nothing otherwise.
    Lines for stdout go through ``echo`` so the bar is redrawn below them."""

    def __init__(self, unit: str = "rec") -> None:
        self.unit = unit
        self.bar: tqdm[Any] | None = None

    def start(self, total: int) -> None:
        if not sys.stderr.isatty():
            return
        try:
            size = os.get_terminal_size(sys.stderr.fileno())
            sized = size.columns > 0 and size.lines > 0
        except OSError:
            sized = False
        self.bar = tqdm(
            total=total,
            unit=self.unit,
            unit_scale=True,
            file=sys.stderr,
            # a terminal that reports no size (a bare pty) would hide the bar
            ncols=None if sized else 100,
            nrows=None if sized else 24,
        )

    def advance(self, records: int) -> None:
        if self.bar is not None:
            self.bar.update(records)

    def echo(self, line: str) -> None:
        if self.bar is not None and sys.stdout.isatty():
            with self.bar.external_write_mode():
                click.echo(line)
        else:
            click.echo(line)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
