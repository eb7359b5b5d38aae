"""``alertpipe kafka acls``: the ACLs of a component (``kafkaio.acls``) for this installation's
topic names and worker group, as ``kafka-acls`` commands, or granted at once."""

from __future__ import annotations

import click

from alertpipe.cli.common import EXIT_USAGE, bootstrap_or_exit, fail, settings_or_exit
from kafkaio.acls import COMPONENTS, component_acls, component_rows, kafka_acls_command
from kafkaio.settings import SettingsError


@click.command("acls")
@click.option(
    "--component",
    "components",
    type=click.Choice(COMPONENTS),
    multiple=True,
    help="ingress, worker or operator (repeatable) [default: all three].",
)
@click.option(
    "--principal",
    default=None,
    help="Whom to allow, e.g. User:alertpipe-ingress [default: User:<component>].",
)
@click.option(
    "--command-config",
    default="admin.properties",
    show_default=True,
    help="The admin client's config file the printed commands name.",
)
@click.option(
    "--apply",
    is_flag=True,
    help="Create the ACLs now, on the configured cluster, as the configured KAFKA_SASL_* user "
    "(a super user, or one allowed Alter on the cluster), instead of printing commands.",
)
def acls(
    components: tuple[str, ...], principal: str | None, command_config: str, apply: bool
) -> None:
    """Print the kafka-acls commands that give each component exactly what it needs, for the
    topic names (ALERTPIPE_TOPIC_*) and worker group (ALERTPIPE_WORKER_GROUP) configured here;
    docs/operations.md explains each rule.

    \b
      alertpipe kafka acls --component worker --principal User:alertpipe-worker
      alertpipe kafka acls --component ingress --apply
    """
    from processors.settings import load_worker_settings

    settings = settings_or_exit()
    try:
        group = load_worker_settings().group
    except SettingsError as exc:
        fail(f"bad setting: {exc}", EXIT_USAGE)
    chosen = components or COMPONENTS
    if principal is not None and len(chosen) > 1:
        fail("--principal names one component's user: add --component", EXIT_USAGE)
    if apply:
        from kafkaio.aclgrant import AclGrantError, grant

        bootstrap = bootstrap_or_exit(settings)
        for component in chosen:
            who = principal or f"User:{component}"
            try:
                grant(bootstrap, who, component_acls(component, settings.topics, group))
            except AclGrantError as exc:
                fail(str(exc))
            click.echo(f"granted {component}'s ACLs to {who}")
        return
    address = settings.bootstrap_servers or "BROKER:9093"
    for component in chosen:
        who = principal or f"User:{component}"
        click.echo(f"# {component}")
        for row in component_rows(component, settings.topics, group):
            click.echo(kafka_acls_command(who, row, address, command_config))
