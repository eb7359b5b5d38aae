"""The root of alertpipe's own exceptions, on the bottom floor so every package can derive
from it. Each class says the exit code a command ends with when it reaches the CLI
(``alertpipe.cli.main``): 1 failure, 2 usage (a setting, a file or an argument to fix),
69 Kafka unreachable (sysexits' EX_UNAVAILABLE: retrying later may work)."""

from __future__ import annotations

from typing import ClassVar

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_KAFKA_UNREACHABLE = 69


class AlertpipeError(Exception):
    """Something alertpipe knows how to say in one line."""

    exit_code: ClassVar[int] = EXIT_FAILURE


class UsageError(AlertpipeError):
    """What the person running alertpipe can fix: a setting, a file, an argument."""

    exit_code: ClassVar[int] = EXIT_USAGE
