"""The one environment reader: blank is unset, and every error names the variable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.settings import load_ingress_settings
from kafkaio.env import Env, SettingsError
from processors.settings import load_worker_settings


def test_blank_and_missing_mean_the_default() -> None:
    read = Env({"A": "  ", "B": "7"})
    assert read.integer("A", 3) == 3
    assert read.integer("MISSING", 3) == 3
    assert read.integer("B", 3) == 7
    assert read.text("A", "d") == "d"
    assert read.optional("A") is None
    assert read.number("B", 1.0) == 7.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.integer("N", 1), r"^N='x' is not an integer$"),
        (lambda r: r.number("N", 1.0), r"^N='x' is not a number$"),
        (lambda r: r.integer("LOW", 1, low=5), r"^LOW=2 must be at least 5$"),
        (lambda r: r.number("LOW", 1.0, high=1), r"^LOW=2 must be at most 1$"),
        (lambda r: r.integer("LOW", 1, 3, 9), r"^LOW=2 must be between 3 and 9$"),
        (lambda r: r.positive("NEG", 1.0), r"^NEG=-1 must be positive$"),
        (lambda r: r.choice("N", "a", ("a", "b")), r"^N='x' must be one of a, b$"),
        (lambda r: r.directory("N"), r"^N='x' is not a directory$"),
    ],
)
def test_each_error_names_the_variable(call: Callable[[Env], object], message: str) -> None:
    read = Env({"N": "x", "LOW": "2", "NEG": "-1"})
    with pytest.raises(SettingsError, match=message):
        call(read)


def test_flags_and_directories(tmp_path: Path) -> None:
    read = Env({"ON": "Yes", "OFF": "0", "DIR": str(tmp_path)})
    assert (read.flag("ON"), read.flag("OFF"), read.flag("MISSING")) == (True, False, False)
    assert read.directory("DIR") == tmp_path
    assert read.directory("MISSING") is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALERTPIPE_WORKER_SESSION_TIMEOUT_S": "3"}, "SESSION_TIMEOUT_S=3 must be between 6"),
        ({"ALERTPIPE_PROCESSING_GUARANTEE": "maybe"}, "must be one of exactly-once"),
        ({"ALERTPIPE_WORKER_METRICS_PORT": "70000"}, "METRICS_PORT=70000 must be between"),
        ({"ALERTPIPE_OPEN_TTL_S": "0"}, "ALERTPIPE_OPEN_TTL_S=0 must be positive"),
        ({"ALERTPIPE_WORKER_COMMIT_INTERVAL_S": "0"}, "must be above 0"),
        (
            {
                "ALERTPIPE_WORKER_COMMIT_INTERVAL_S": "2",
                "ALERTPIPE_WORKER_TRANSACTION_TIMEOUT_S": "2",
            },
            "longer than the commit",
        ),
    ],
)
def test_the_worker_settings_name_the_bad_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_worker_settings(env)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALERTPIPE_MAX_BODY_BYTES": "big"}, "ALERTPIPE_MAX_BODY_BYTES='big' is not an integer"),
        ({"ALERTPIPE_BODY_TIMEOUT_S": "0"}, "ALERTPIPE_BODY_TIMEOUT_S=0 must be positive"),
        ({"ALERTPIPE_INGRESS_SINK": "disk"}, "must be one of kafka, null"),
    ],
)
def test_the_ingress_settings_name_the_bad_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_ingress_settings(env)


def test_the_incident_ttls_have_one_default() -> None:
    from processors.incidents import IncidentPolicy
    from processors.settings import incident_policy

    assert incident_policy(load_worker_settings({})) == IncidentPolicy()
