"""``alertpipe integrations enable|list|revoke``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
from click.shell_completion import CompletionItem

from alertpipe.cli.common import EXIT_KAFKA_UNREACHABLE, bootstrap_or_exit, fail, settings_or_exit
from alertpipe.cli.group import CommandGroup
from alertpipe.jobs.integrations import IntegrationError, enable, revoke
from ingest.keystore import read_integrations
from kafkaio.follower import TopicMissing
from schemas.registry import RegistryError, catalog

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
T = TypeVar("T")


def run_kafka(coro: Coroutine[Any, Any, T]) -> T:
    """Run one Kafka operation; turn the ways it can fail into one clear line and exit code."""
    try:
        return asyncio.run(coro)
    except TopicMissing as exc:
        fail(str(exc))
    except IntegrationError as exc:
        fail(str(exc), exc.exit_code)  # a usage error: unknown source or key id, bad org
    except (TimeoutError, OSError) as exc:
        fail(f"cannot reach Kafka: {exc!r}", EXIT_KAFKA_UNREACHABLE)
    except Exception as exc:
        if type(exc).__module__.startswith("aiokafka"):
            fail(f"Kafka error: {exc!r}", EXIT_KAFKA_UNREACHABLE)
        raise


@click.group(cls=CommandGroup)
def integrations() -> None:
    """Integration keys: the secret in each service URL. Stored only as hashes."""


def _source_names(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Shell completion of SOURCE: the sources the registry serves here."""
    try:
        sources = catalog(settings_or_exit().sources_dir)
    except (RegistryError, SystemExit):
        return []
    return [
        CompletionItem(n, help=i.title)
        for n, i in sorted(sources.items())
        if n.startswith(incomplete)
    ]


@integrations.command("enable")
@click.argument("source", shell_complete=_source_names)
@click.option("--org", required=True, help="Organisation the key belongs to, e.g. acme.")
@click.option(
    "--base-url",
    default=lambda: os.environ.get("ALERTPIPE_PUBLIC_URL", DEFAULT_BASE_URL),
    show_default="$ALERTPIPE_PUBLIC_URL or " + DEFAULT_BASE_URL,
    help="Public address of the ingress, used to print the service URL.",
)
@click.option(
    "--routing-key",
    default=None,
    help="The routing key its alerts go to: in the printed URL, or for a source with the key "
    "in the body (whose URL has none) recorded with the key. Default: $routing_key in the URL, "
    "or the default route.",
)
@click.option(
    "--topic-arn",
    "topic_arns",
    multiple=True,
    help="For a source of protocol amazon_sns, at least once: an SNS topic ARN (or a glob such "
    "as arn:aws:sns:*:123456789012:*) whose messages and subscriptions the key takes.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print url, key, key_id, org, source, routing_key."
)
def enable_cmd(
    source: str,
    org: str,
    base_url: str,
    routing_key: str | None,
    topic_arns: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create a key for SOURCE (a name `alertpipe sources list` prints) and print the service
    URL, ending in /$routing_key for you to replace unless --routing-key is given. For a source
    with the key in the body (PagerDuty Events API v2's protocol), the URL is its endpoint and
    the key (32 hex digits) is the integration key the sender puts in the body. The key is
    shown only this once. Running ingress processes accept it within seconds."""
    settings = settings_or_exit()
    bootstrap = bootstrap_or_exit(settings)
    sources = catalog(settings.sources_dir)
    done = run_kafka(
        enable(
            bootstrap,
            settings.topics.integrations,
            sources,
            source,
            org,
            base_url,
            routing_key,
            topic_arns,
        )
    )
    if as_json:
        click.echo(json.dumps(done.to_json()))
        return
    i = done.integration
    info = sources[i.source]
    click.echo(f"Enabled {i.source} for org {i.org} (key id {i.key_id}).")
    if info.key_in_body:
        click.echo(f"Events URL ({info.title}):")
        click.echo(f"  {done.url}")
        for other in sorted(sources.values(), key=lambda o: o.name):
            if other.keys_from == i.source and other.endpoint is not None:  # the same key
                click.echo(f"  {base_url.rstrip('/')}{other.endpoint} ({other.title})")
        click.echo(f"Integration key (the body's routing_key): {done.key}")
        where = i.routing_key or "the default route"
        click.echo(f"Alerts go to {where}.")
    else:
        if i.routing_key is None:
            click.echo("Service URL (replace $routing_key with a routing key, or leave it for the")
            click.echo("default route):")
        else:
            click.echo("Service URL:")
        click.echo(f"  {done.url}")
    if i.topic_arns:
        click.echo(
            f"SNS topics it takes (and confirms subscriptions of): {', '.join(i.topic_arns)}"
        )
    click.echo("The key is shown only now: alertpipe keeps only its hash.")


@integrations.command("list")
@click.option("--org", default=None, help="Only this organisation.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_cmd(org: str | None, as_json: bool) -> None:
    """List integration keys (ids, never the keys themselves), revoked ones included."""
    settings = settings_or_exit()
    bootstrap = bootstrap_or_exit(settings)
    table = run_kafka(read_integrations(bootstrap, settings.topics.integrations))
    rows = [i for i in table.all() if org is None or i.org == org]
    for i in rows:
        created = dt.datetime.fromtimestamp(i.created_at / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")
        status = "active" if i.active else "revoked"
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "key_id": i.key_id,
                        "org": i.org,
                        "source": i.source,
                        "created_at": i.created_at,
                        "revoked_at": i.revoked_at,
                        "routing_key": i.routing_key,
                        "topic_arns": list(i.topic_arns),
                        "status": status,
                    }
                )
            )
        else:
            click.echo(f"{i.key_id}  {i.org:<16} {i.source:<14} {created}  {status}")
    if not rows and not as_json:
        click.echo("No integration keys." if org is None else f"No integration keys for {org}.")


@integrations.command("revoke")
@click.argument("key_id")
def revoke_cmd(key_id: str) -> None:
    """Revoke the key with KEY_ID (see `list`). Running ingress processes refuse it within
    seconds; requests with it get 404 and nothing is written."""
    settings = settings_or_exit()
    bootstrap = bootstrap_or_exit(settings)
    item, changed = run_kafka(revoke(bootstrap, settings.topics.integrations, key_id))
    if changed:
        click.echo(f"Revoked {item.key_id} ({item.source}, org {item.org}).")
    else:
        click.echo(f"{item.key_id} was already revoked.")
