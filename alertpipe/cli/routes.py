"""``alertpipe routes``: routing tables, default routes and rules per org."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import click
import yaml

from alertpipe.cli.common import (
    EXIT_USAGE,
    INPUT_FILE,
    bootstrap_or_exit,
    fail,
    read_input,
    schemas_or_exit,
    settings_or_exit,
)
from alertpipe.cli.group import CommandGroup
from alertpipe.cli.integrations import run_kafka
from alertpipe.jobs.routes import route_test
from kafkaio.clients import KafkaTarget
from processors.routestore import publish_routes, read_routes
from processors.routing import (
    ROUTING_KEY,
    RoutingConfig,
    RoutingConfigError,
    config_from_json,
    parse_rules,
)


def _load(org: str) -> tuple[KafkaTarget, str, RoutingConfig]:
    settings = settings_or_exit()
    bootstrap = bootstrap_or_exit(settings)
    configs = run_kafka(read_routes(bootstrap, settings.topics.routes))
    return bootstrap, settings.topics.routes, configs.get(org) or RoutingConfig(org)


def _save(bootstrap: KafkaTarget, topic: str, config: RoutingConfig) -> None:
    run_kafka(publish_routes(bootstrap, topic, config))


def _teams(teams: tuple[str, ...]) -> tuple[str, ...]:
    if not teams:
        fail("give at least one --team")
    return tuple(dict.fromkeys(teams))


@click.group(cls=CommandGroup)
def routes() -> None:
    """Routing: routing key -> teams per org, a default route, and ordered rules.

    Changes are stored in Kafka and used by running workers for the next alert."""


@routes.command("set")
@click.argument("org")
@click.argument("routing_key")
@click.option("--team", "teams", multiple=True, help="Team (repeat for several).")
def set_cmd(org: str, routing_key: str, teams: tuple[str, ...]) -> None:
    """Send alerts with ROUTING_KEY (case-insensitive) to the given teams."""
    if not ROUTING_KEY.match(routing_key):
        fail(f"routing key {routing_key!r}: use letters, digits, '-' and '_'")
    bootstrap, topic, config = _load(org)
    new = dataclasses.replace(config, routes={**config.routes, routing_key.lower(): _teams(teams)})
    _save(bootstrap, topic, new)
    click.echo(f"{org}: {routing_key.lower()} -> {', '.join(new.routes[routing_key.lower()])}")


@routes.command("unset")
@click.argument("org")
@click.argument("routing_key")
def unset_cmd(org: str, routing_key: str) -> None:
    """Remove ROUTING_KEY from the org's table (its alerts then take the default route)."""
    bootstrap, topic, config = _load(org)
    if routing_key.lower() not in config.routes:
        fail(f"{org} has no routing key {routing_key.lower()!r}")
    remaining = {k: v for k, v in config.routes.items() if k != routing_key.lower()}
    _save(bootstrap, topic, dataclasses.replace(config, routes=remaining))
    click.echo(f"{org}: removed {routing_key.lower()}")


@routes.command("default")
@click.argument("org")
@click.option("--team", "teams", multiple=True, help="Team (repeat for several).")
def default_cmd(org: str, teams: tuple[str, ...]) -> None:
    """Set the default route: where alerts with a missing, unknown or placeholder key go."""
    bootstrap, topic, config = _load(org)
    new = dataclasses.replace(config, default_teams=_teams(teams))
    _save(bootstrap, topic, new)
    click.echo(f"{org}: default -> {', '.join(new.default_teams)}")


@routes.command("list")
@click.argument("org")
@click.option("--json", "as_json", is_flag=True, help="Print the stored config as JSON.")
def list_cmd(org: str, as_json: bool) -> None:
    """Show the org's routing table, default route and rules."""
    _, _, config = _load(org)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "org": org,
                    "default_teams": list(config.default_teams),
                    "routes": {k: list(v) for k, v in config.routes.items()},
                    "rules": list(config.rules_source),
                },
                indent=2,
            )
        )
        return
    click.echo(f"default: {', '.join(config.default_teams) or '(none)'}")
    for key, teams in sorted(config.routes.items()):
        click.echo(f"{key:<24} {', '.join(teams)}")
    for i, rule in enumerate(config.rules, 1):
        conditions = [f"{n}~{p.text}" for n, p in rule.patterns]
        conditions += [f"details.{k}={v!r}" for k, v in rule.details_equal]
        click.echo(f"rule {i} {rule.name}: {' and '.join(conditions)} -> {rule.set_routing_key}")


@routes.group("rules")
def rules() -> None:
    """Ordered rules that rewrite the routing key (first match wins)."""


@rules.command("apply")
@click.argument("org")
@click.argument("file", type=INPUT_FILE)
def rules_apply(org: str, file: Path) -> None:
    """Replace the org's rules with those in FILE (YAML or JSON; - reads standard input): a
    list, or {rules: [...]}.

    \b
    rules:
      - name: disks-to-dba
        match: {entity_id: "diskspace/*", message_type: CRITICAL}
        set_routing_key: dba
      - name: bgp
        match: {source: thousandeyes, entity_display_name: {regex: "(?i)bgp"}}
        set_routing_key: net
      - name: by-tool
        match: {details: {monitoring_tool: nagios}}
        set_routing_key: ops
    """
    try:
        loaded: Any = yaml.safe_load(read_input(file))
    except yaml.YAMLError as exc:
        fail(f"{file}: not YAML or JSON: {exc}")
    specs = loaded.get("rules") if isinstance(loaded, dict) else loaded
    try:
        parsed = parse_rules(specs)
    except RoutingConfigError as exc:
        fail(f"{file}: {exc}")
    bootstrap, topic, config = _load(org)
    new = config_from_json(
        org,
        {
            "routes": {k: list(v) for k, v in config.routes.items()},
            "default_teams": list(config.default_teams),
            "rules": specs,
        },
    )
    _save(bootstrap, topic, new)
    click.echo(f"{org}: {len(parsed)} rule(s) applied")
    unknown = sorted({r.set_routing_key for r in parsed} - set(new.routes))
    if unknown:
        click.secho(
            f"warning: rules route to keys not in the table: {', '.join(unknown)} "
            "(their alerts take the default route)",
            fg="yellow",
            err=True,
        )


@routes.command("test")
@click.argument("org")
@click.option("--source", required=True, help="A source name (`alertpipe sources list`).")
@click.option("--routing-key", default="", help="As it would appear in the service URL.")
@click.option(
    "--body",
    "body_file",
    required=True,
    type=INPUT_FILE,
    help="The body (a file, or - for standard input).",
)
@click.option("--content-type", default=None, help="[default: form for .form files, else JSON]")
@click.option("--json", "as_json", is_flag=True, help="Print the decisions as JSON.")
def test_cmd(
    org: str,
    source: str,
    routing_key: str,
    body_file: Path,
    content_type: str | None,
    as_json: bool,
) -> None:
    """Run a body through validation, mapping and the org's current routing, as the worker
    would, and print where each alert goes and which rule matched. Writes nothing.
    Exit 1 if the body would be dead-lettered."""
    schemas = schemas_or_exit(settings_or_exit())
    served = schemas.sources.get(source)
    if served is None:
        known = ", ".join(sorted(schemas.sources))
        fail(f"unknown source {source!r}; known: {known}", EXIT_USAGE)
    _, _, config = _load(org)
    ctype = content_type or (
        "application/x-www-form-urlencoded" if body_file.suffix == ".form" else "application/json"
    )
    result = route_test(schemas, config, source, routing_key, read_input(body_file), ctype)
    if result.dead_letter is not None:
        letter = result.dead_letter
        click.echo(f"dead letter: {letter.code} at {letter.path or '$'}: {letter.message}")
        raise SystemExit(1)
    for alert in result.alerts:
        r = alert.routing
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "entity_id": alert.entity_id,
                        "message_type": alert.message_type,
                        "routing_key": alert.routing_key,
                        "routing": dataclasses.asdict(r),
                    }
                )
            )
            continue
        click.echo(f"{alert.message_type} {alert.entity_id}")
        click.echo(f"  requested routing key: {r.requested!r}")
        click.echo(f"  rule: {r.rule or '(none matched)'}")
        click.echo(f"  decision: {r.reason} -> routing key {alert.routing_key or '(default)'}")
        click.echo(f"  teams: {', '.join(r.teams) or '(none)'}")
