"""The pure pieces behind the pages: the dead-letter index, recent activity, the SVG chart."""

from __future__ import annotations

import re

from alertpipe.console.activity import MINUTE_MS, Activity
from alertpipe.console.charts import bar_chart
from alertpipe.console.deadletters import HOUR_MS, DeadLetterFilter, DeadLetterIndex
from alertpipe.console.incidentview import IncidentAlertIndex, IncidentQuery, incident_rows
from alertpipe.console.pages.health import quiet_for
from processors.changelog import HeldIncident
from processors.incidents import IncidentPolicy, IncidentState

NOW = 1_760_000_000_000 - 1_760_000_000_000 % HOUR_MS + 30 * MINUTE_MS


def letter(code: str, source: str, org: str = "acme") -> list[tuple[str, bytes | None]]:
    return [("source", source.encode()), ("org", org.encode()), ("error.code", code.encode()),
            ("error.message", b"why"), ("error.path", b"$.alert")]  # fmt: skip


def test_dead_letters_page_newest_first_with_filters() -> None:
    index = DeadLetterIndex()
    for n in range(120):
        code, source = ("schema", "thousandeyes") if n % 3 else ("invalid_json", "generic")
        index.feed(n % 2, n, NOW - (120 - n) * MINUTE_MS, letter(code, source))
    first, total = index.page(DeadLetterFilter(), 0, 50)
    assert total == 120
    assert len(first) == 50
    assert [d.offset for d in first[:3]] == [119, 118, 117]
    last, _ = index.page(DeadLetterFilter(), 100, 50)
    assert [d.offset for d in last][-1] == 0
    assert len(last) == 20
    schema, n_schema = index.page(DeadLetterFilter(code="schema"), 0, 10)
    assert n_schema == 80
    assert all(d.code == "schema" for d in schema)
    assert index.page(DeadLetterFilter(org="other"), 0, 10) == ([], 0)
    hours = index.per_hour(NOW, 3, DeadLetterFilter(source="generic"))
    assert sum(hours) == 40
    assert len(hours) == 3
    assert index.codes == {"schema": 80, "invalid_json": 40}


def test_activity_counts_webhooks_and_links_a_request_to_its_alerts() -> None:
    activity = Activity()
    for n in range(5):
        headers = [("source", b"thousandeyes"), ("received_at", str(NOW - n * MINUTE_MS).encode()),
                   ("request_id", f"r{n}".encode())]  # fmt: skip
        activity.feed_raw("alerts.raw", 0, n, headers)
    activity.feed_raw("alerts.raw", 0, 9, [("source", b"x"), ("received_at", b"bad")])
    assert activity.per_minute("thousandeyes", NOW, 10)[-5:] == [1, 1, 1, 1, 1]
    assert activity.per_minute("generic", NOW, 10) == [0] * 10
    assert activity.last_seen == {"thousandeyes": NOW}
    assert activity.alerts_of_request("nope") is None
    assert activity.alerts_of_request("r2") == []
    alert = {"entity_id": "e", "raw": {"topic": "alerts.raw", "partition": 0, "offset": 2}}
    activity.feed_alert(alert, ("alerts.normalized", 1, 7))
    [found] = activity.alerts_of_request("r2") or []
    assert found["entity_id"] == "e"
    assert found["_ref"] == ("alerts.normalized", 1, 7)
    activity.feed_dead_letter(NOW)
    assert activity.dead_per_minute(NOW, 2) == [0, 1]
    activity.forget_before(NOW + 3 * 3_600_000)
    assert not activity.webhooks
    assert not activity.dead_letters


def test_bar_chart_scales_to_the_peak_and_describes_itself() -> None:
    svg = bar_chart([0, 5, 10], "webhooks per minute")
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([0-9.]+)"', svg)]
    assert heights == [19.0, 38.0]  # half and full height of 40 less the axis
    assert 'role="img"' in svg
    assert "total 15, peak 10" in svg
    assert "<rect" not in bar_chart([0, 0], "nothing")
    assert "&lt;b&gt;" in bar_chart([1], "<b>")  # the label is escaped


def held(
    entity: str, status: str, last_seen: int, org: str = "acme", teams: tuple[str, ...] = ()
) -> HeldIncident:
    state = IncidentState(status, "CRITICAL", last_seen, last_seen, last_seen, 1, 0,  # type: ignore[arg-type]
                          opened_by=f"a-{entity}", source="thousandeyes", teams=teams)  # fmt: skip
    return HeldIncident(org, entity, state, None, 0, 0)


def test_incident_rows_filter_by_team_and_status_newest_first() -> None:
    alerts = IncidentAlertIndex()
    for entity, team in (("a", "ops"), ("b", "dba")):
        alert = {"incident_key": f"acme/{entity}", "alert_id": f"a-{entity}",
                 "message_type": "CRITICAL", "received_at": NOW,
                 "routing": {"teams": [team], "requested": team}}  # fmt: skip
        alerts.feed(alert, ("alerts.normalized", 0, 1))
    alerts.feed({"incident_key": "acme/t", "is_test": True}, ("alerts.normalized", 0, 2))
    incidents = [held("a", "open", NOW - 2), held("b", "acknowledged", NOW - 1),
                 held("c", "resolved", NOW), held("d", "open", NOW, org="other"),
                 held("e", "open", NOW - 3, teams=("ops", "noc"))]  # fmt: skip
    policy = IncidentPolicy()

    def rows(**query: str) -> list[str]:
        found = incident_rows(incidents, alerts, IncidentQuery(**query), NOW, policy)
        return [i.entity_id for i in found]

    assert rows() == ["d", "b", "a", "e"]  # open and acknowledged, most recently seen first
    assert rows(org="acme") == ["b", "a", "e"]
    # from the delivery topic read back (a), or from the state when it records them (e: its
    # alerts older than the read-back)
    assert rows(team="ops") == ["a", "e"]
    assert rows(team="noc") == ["e"]
    assert rows(status="resolved") == ["c"]
    assert rows(source="pingometer") == []
    assert alerts.of("acme/a").routing_key == "ops"
    assert alerts.refs["a-b"] == ("alerts.normalized", 0, 1)
    assert "acme/t" not in alerts.by_incident  # a test alert never makes an incident


def test_a_source_with_keys_that_went_quiet_is_flagged() -> None:
    assert quiet_for(None, 1, NOW)
    assert quiet_for(NOW - 16 * MINUTE_MS, 2, NOW)
    assert not quiet_for(NOW - 14 * MINUTE_MS, 1, NOW)
    assert not quiet_for(None, 0, NOW)  # no keys: nothing expected from it
