"""Console settings, read once from the environment when ``alertpipe console`` starts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kafkaio.env import Env, SettingsError
from kafkaio.secret import Secret
from kafkaio.settings import Settings, load_settings

TOKEN_ENV = "ALERTPIPE_CONSOLE_TOKEN"
MIN_TOKEN_CHARS = 16
# The sources' setup guides in a checkout. An installed package has no docs/ beside it: the
# image ships a copy and points ALERTPIPE_CONSOLE_GUIDES_DIR at it.
CHECKOUT_GUIDES = Path(__file__).resolve().parents[2] / "docs" / "sources"


@dataclass(frozen=True)
class ConsoleSettings:
    kafka: Settings
    token: Secret = field(default_factory=lambda: Secret(""))
    host: str = "127.0.0.1"
    port: int = 8090
    # Where "Send test alert" posts (the real ingress) and whose /readyz the Health page shows.
    ingress_url: str = "http://127.0.0.1:8080"
    # The base of the service URLs shown (the ingress's public address).
    public_url: str = "http://127.0.0.1:8080"
    # The worker's probe endpoint (/readyz) for the Health page; "" when it has none.
    worker_url: str = "http://127.0.0.1:9464"
    # Where the setup guides (<source>.md) are read from; None: no guides to show.
    guides_dir: Path | None = None


def load_console_settings(env: Mapping[str, str] | None = None) -> ConsoleSettings:
    """SettingsError without a token (the console never runs open) or with a short one."""
    values = os.environ if env is None else env
    read, d = Env(values), ConsoleSettings(kafka=Settings())
    token = read.optional(TOKEN_ENV)
    if token is None:
        raise SettingsError(
            f"{TOKEN_ENV} is not set: the console needs a token (e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(24))'`)"
        )
    if len(token) < MIN_TOKEN_CHARS:
        raise SettingsError(f"{TOKEN_ENV} is too short: use at least {MIN_TOKEN_CHARS} characters")
    ingress = read.text("ALERTPIPE_CONSOLE_INGRESS_URL", d.ingress_url).rstrip("/")
    return ConsoleSettings(
        kafka=load_settings(values),
        token=Secret(token),
        host=read.text("ALERTPIPE_CONSOLE_HOST", d.host),
        port=read.integer("ALERTPIPE_CONSOLE_PORT", d.port, low=0, high=65535),
        ingress_url=ingress,
        public_url=read.text("ALERTPIPE_PUBLIC_URL", ingress).rstrip("/"),
        worker_url=read.text("ALERTPIPE_CONSOLE_WORKER_URL", d.worker_url).rstrip("/"),
        guides_dir=read.directory("ALERTPIPE_CONSOLE_GUIDES_DIR") or checkout_guides(),
    )


def checkout_guides() -> Path | None:
    return CHECKOUT_GUIDES if CHECKOUT_GUIDES.is_dir() else None
