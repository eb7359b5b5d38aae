"""*Routes*: per org the routing keys and their teams, the default route and the ordered rules;
and a form that runs a pasted body through `alertpipe routes test` (``alertpipe.jobs.routes``)
and shows each step: parse and schema, mapping, the rule that matched, the route."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from alertpipe.console.context import checked_form, console_of
from alertpipe.jobs.routes import route_test, routes_test_headers
from processors.explain import schema_verdict
from processors.routing import RoutingConfig

CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")


def _rules(config: RoutingConfig) -> list[dict[str, str]]:
    return [
        {
            "name": rule.name,
            "when": " and ".join(
                [f"{n} ~ {p.text}" for n, p in rule.patterns]
                + [f"details.{k} = {v!r}" for k, v in rule.details_equal]
            ),
            "to": rule.set_routing_key,
        }
        for rule in config.rules
    ]


async def routes_page(request: Request, **shown: Any) -> Response:
    console = console_of(request)
    configs = console.view.routes.configs
    orgs = sorted(configs)
    tables = [
        {"config": configs[org], "routes": sorted(configs[org].routes.items()),
         "rules": _rules(configs[org])}
        for org in orgs
    ]  # fmt: skip
    return console.page(
        request, "routes.html", tables=tables, orgs=orgs, sources=sorted(console.sources),
        content_types=CONTENT_TYPES, **shown,
    )  # fmt: skip


async def routes_test_action(request: Request) -> Response:
    console = console_of(request)
    form = await checked_form(console, request)
    org, source = form.get("org", "").strip(), form.get("source", "")
    routing_key = form.get("routing_key", "").strip()
    content_type = form.get("content_type") or CONTENT_TYPES[0]
    body = form.get("body", "").encode()
    schemas = console.schemas()
    if source not in schemas.sources:
        return await routes_page(request, error=f"unknown source {source!r}", form=form)
    config = console.view.routes.configs.get(org) or RoutingConfig(org)
    result = route_test(schemas, config, source, routing_key, body, content_type)
    headers = routes_test_headers(
        source, org, routing_key, content_type, schemas.sources[source].protocol
    )
    verdict = schema_verdict(headers, body, schemas)
    return await routes_page(request, result=result, verdict=verdict, form=form)
