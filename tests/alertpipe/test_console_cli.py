"""`alertpipe console` refuses to start, in one line and exit 2, without its token or on a
port that is taken."""

from __future__ import annotations

import socket

from click.testing import CliRunner

from alertpipe.cli import cli

TOKEN = "cli-test-token-0123456789"


def test_no_token_no_console() -> None:
    result = CliRunner().invoke(cli, ["console"], env={"ALERTPIPE_CONSOLE_TOKEN": ""})
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "ALERTPIPE_CONSOLE_TOKEN is not set" in lines[0]


def test_a_short_token_is_refused() -> None:
    result = CliRunner().invoke(cli, ["console"], env={"ALERTPIPE_CONSOLE_TOKEN": "short"})
    assert result.exit_code == 2
    assert "too short" in result.output


def test_a_taken_port_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"ALERTPIPE_CONSOLE_TOKEN": TOKEN, "ALERTPIPE_CONSOLE_PORT": str(port)}
        result = CliRunner().invoke(cli, ["console"], env=env)
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: port {port} is in use on 127.0.0.1: stop what listens there, or choose "
        "another with ALERTPIPE_CONSOLE_PORT"
    )
