"""What the dashboard and the alert rules ask Prometheus for: their PromQL expressions, and
the metric and label names in them (parsed with Prometheus' grammar, not by regex)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import promql_parser
import yaml

DEPLOY = Path(__file__).parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "alertpipe.json"
RULES = DEPLOY / "prometheus" / "alerts.yml"
# Grafana fills these in before Prometheus sees the query.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h"}
# Series Prometheus makes itself, not any /metrics.
SYNTHETIC = {"up"}


@dataclass
class Selectors:
    """Metric names, and the label names used with them (matchers and by/without)."""

    labels: dict[str, set[str]] = field(default_factory=dict)
    aggregated_by: set[str] = field(default_factory=set)


def selectors(expr: str) -> Selectors:
    """Raises ValueError (from the parser) when ``expr`` is not valid PromQL."""
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    found = Selectors()

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name is None:
                raise ValueError(f"selector without a metric name in {expr!r}")
            names = {m.name for m in node.matchers.matchers}
            found.labels.setdefault(node.name, set()).update(names)
        elif isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            found.aggregated_by.update(node.modifier.labels)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def dashboard_queries() -> Iterator[tuple[str, str]]:
    """(panel title, expression) of every query in the dashboard."""
    dashboard = json.loads(DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def rule_queries() -> Iterator[tuple[str, str]]:
    """(alert name, expression) of every alert rule."""
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            yield rule["alert"], rule["expr"]
