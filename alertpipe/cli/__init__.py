"""The ``alertpipe`` command. Each command group lives in its own module."""

from __future__ import annotations

import click

from alertpipe.cli.common import EXIT_CODES_HELP, configure_logging, fail
from alertpipe.cli.completion import completion
from alertpipe.cli.config import config
from alertpipe.cli.console import console
from alertpipe.cli.contracts import contracts
from alertpipe.cli.dlq import dlq
from alertpipe.cli.explain import explain_cmd
from alertpipe.cli.group import CommandGroup
from alertpipe.cli.incident_events import ack, resolve
from alertpipe.cli.incidents import incidents
from alertpipe.cli.ingress import ingress
from alertpipe.cli.integrations import integrations
from alertpipe.cli.kafka import kafka
from alertpipe.cli.maintenance import maintenance
from alertpipe.cli.replay import replay
from alertpipe.cli.routes import routes
from alertpipe.cli.run import run
from alertpipe.cli.sources import sources
from alertpipe.cli.tail import tail
from alertpipe.cli.topics import topics
from alertpipe.cli.worker import worker
from schemas.errors import AlertpipeError


@click.group(
    cls=CommandGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES_HELP,
)
@click.version_option(package_name="alertpipe", message="alertpipe %(version)s")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging, Kafka client included.")
def cli(verbose: bool) -> None:
    """alertpipe: webhook alert intake on Kafka (VictorOps-style service URLs).

    Kafka is found through KAFKA_BOOTSTRAP_SERVERS; without it, commands use the local broker
    that `alertpipe kafka start` runs from Maven-resolved jars.
    """
    configure_logging(verbose=verbose)


cli.add_command(kafka)
cli.add_command(ingress)
cli.add_command(integrations)
cli.add_command(topics)
cli.add_command(routes)
cli.add_command(maintenance)
cli.add_command(run)
cli.add_command(worker)
cli.add_command(console)
cli.add_command(config)
cli.add_command(replay)
cli.add_command(explain_cmd)
cli.add_command(tail)
incidents.add_command(ack)
incidents.add_command(resolve)
cli.add_command(incidents)
cli.add_command(dlq)
cli.add_command(sources)
cli.add_command(contracts)
cli.add_command(completion)


def main() -> None:
    """The command, with alertpipe's own errors that no command caught as one line and the
    exit code their class names (``schemas.errors``)."""
    try:
        cli()
    except AlertpipeError as exc:
        fail(str(exc), exc.exit_code)
