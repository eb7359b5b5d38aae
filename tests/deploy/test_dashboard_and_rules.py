"""The Grafana dashboard and the Prometheus alert rules load, and every query in them is
valid PromQL (Prometheus' grammar). That the metrics they name exist is checked against
real processes in test_metrics_live.py."""

from __future__ import annotations

import json
from datetime import timedelta

import promql_parser
import pytest
import yaml

from tests.deploy.queries import DASHBOARD, RULES, dashboard_queries, rule_queries, selectors

QUERIES = [*dashboard_queries(), *rule_queries()]


def test_dashboard_loads_and_lays_out() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "alertpipe"
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}"
            assert panel["targets"], panel["title"]
    [variable] = dashboard["templating"]["list"]
    assert (variable["name"], variable["type"], variable["query"]) == (
        "datasource",
        "datasource",
        "prometheus",
    )


def test_dashboard_covers_ingress_and_workers() -> None:
    names = {name for _, expr in dashboard_queries() for name in selectors(expr).labels}
    assert any(n.startswith("alertpipe_ingress_") for n in names)
    for wanted in ("events", "alerts", "dead_letters", "incident_emitted", "incident_suppressed",
                   "consumer_lag", "processing_lag_seconds", "ready"):  # fmt: skip
        assert any(n.startswith(f"alertpipe_worker_{wanted}") for n in names), wanted


def test_rules_are_well_formed() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    alerts = [rule for group in groups for rule in group["rules"]]
    assert len({a["alert"] for a in alerts}) == len(alerts)
    for rule in alerts:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]
        if "for" in rule:
            assert promql_parser.parse_duration(rule["for"]) > timedelta(0)


def test_rules_cover_what_the_issue_asks_for() -> None:
    names = {alert: set(selectors(expr).labels) for alert, expr in rule_queries()}
    assert "alertpipe_ingress_requests_total" in names["AlertpipeIngress503Rising"]
    assert "alertpipe_worker_dead_letters_total" in names["AlertpipeDeadLetterRate"]
    assert "alertpipe_worker_consumer_lag" in names["AlertpipeConsumerLag"]
    assert "AlertpipeSourceSilent" in names


@pytest.mark.parametrize(("where", "expr"), QUERIES, ids=[w for w, _ in QUERIES])
def test_query_is_valid_promql(where: str, expr: str) -> None:
    assert selectors(expr).labels, f"{where}: no metric in {expr!r}"


def test_invalid_promql_is_caught() -> None:
    with pytest.raises(ValueError, match="unclosed left parenthesis"):
        selectors("sum(rate(alertpipe_worker_events_total[5m])")
