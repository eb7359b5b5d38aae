"""``alertpipe console``: the operators' web console (its own process, on loopback)."""

from __future__ import annotations

from dataclasses import replace

import click

from alertpipe.cli.common import (
    EXIT_USAGE,
    bootstrap_or_exit,
    fail,
    schemas_or_exit,
    settings_or_exit,
)
from alertpipe.ports import port_is_free
from kafkaio.settings import SettingsError


@click.command()
def console() -> None:
    """Serve the operators' web console: integrations, routes, incidents, dead letters,
    maintenance windows and health, from Kafka, through the same operations as the CLI.

    Needs ALERTPIPE_CONSOLE_TOKEN; listens on ALERTPIPE_CONSOLE_HOST:ALERTPIPE_CONSOLE_PORT
    (127.0.0.1:8090: keep it off the internet). Open http://HOST:PORT/?token=TOKEN once: the
    console sets a session cookie and drops the token from the address."""
    from alertpipe.console.server import build_console, serve
    from alertpipe.console.settings import load_console_settings
    from processors.settings import incident_policy, load_worker_settings

    try:
        loaded = load_console_settings()
        worker = load_worker_settings()
    except SettingsError as exc:
        fail(f"bad setting: {exc}", EXIT_USAGE)
    if loaded.port and not port_is_free(loaded.port, loaded.host):
        fail(
            f"port {loaded.port} is in use on {loaded.host}: stop what listens there, or "
            "choose another with ALERTPIPE_CONSOLE_PORT",
            EXIT_USAGE,
        )
    settings = settings_or_exit()
    schemas = schemas_or_exit(settings)
    found = bootstrap_or_exit(settings)
    kafka = replace(settings, bootstrap_servers=found.bootstrap_servers, security=found.security)
    loaded = replace(loaded, kafka=kafka)
    built = build_console(loaded, found, schemas.sources, incident_policy(worker), worker.group)
    click.echo(f"console on http://{loaded.host}:{loaded.port}/ (open it with ?token=...)",
               err=True)  # fmt: skip
    serve(built)
