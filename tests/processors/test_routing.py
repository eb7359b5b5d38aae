from __future__ import annotations

import pytest

from processors.routing import (
    RoutingConfigError,
    config_from_json,
    config_to_json,
    decode_config,
    route_alert,
    route_without_rules,
)

CONFIG = config_from_json(
    "acme",
    {
        "routes": {"Web": ["web-oncall"], "dba": ["dba", "dba-lead"], "net": ["netops"]},
        "default_teams": ["noc"],
        "rules": [
            {
                "name": "disks-to-dba",
                "match": {"entity_id": "diskspace/*", "message_type": "CRITICAL"},
                "set_routing_key": "dba",
            },
            {
                "name": "te-bgp",
                "match": {"source": "thousandeyes", "entity_display_name": {"regex": "(?i)bgp"}},
                "set_routing_key": "net",
            },
            {
                "name": "nagios-lost",
                "match": {"details": {"monitoring": {"tool": "nagios"}}},
                "set_routing_key": "gone",
            },
            {
                "name": "by-field",
                "match": {"details": {"team.name": "web"}},
                "set_routing_key": "web",
            },
        ],
    },
)


def alert(**fields: object) -> dict[str, object]:
    return {
        "source": "generic",
        "message_type": "INFO",
        "entity_id": "x",
        "entity_display_name": "X",
        "details": {},
        **fields,
    }


@pytest.mark.parametrize(
    ("requested", "reason", "teams", "key"),
    [
        ("web", "matched", ("web-oncall",), "web"),
        ("WEB", "matched", ("web-oncall",), "web"),
        ("", "missing", ("noc",), None),
        ("$routing_key", "placeholder", ("noc",), None),
        ("$ROUTING_KEY", "placeholder", ("noc",), None),
        ("../etc", "invalid", ("noc",), None),
        ("team a", "invalid", ("noc",), None),
        ("nosuch", "unknown", ("noc",), None),
    ],
)
def test_routing_key_lookup_and_default_route(
    requested: str, reason: str, teams: tuple[str, ...], key: str | None
) -> None:
    decision = route_alert(CONFIG, requested, alert())
    assert (decision.routing.reason, decision.routing.teams, decision.routing_key) == (
        reason,
        teams,
        key,
    )
    assert decision.routing.requested == requested


def test_first_matching_rule_rewrites_the_routing_key() -> None:
    decision = route_alert(
        CONFIG, "web", alert(entity_id="diskspace/db01", message_type="CRITICAL")
    )
    assert (decision.routing_key, decision.routing.reason, decision.routing.rule) == (
        "dba",
        "rule",
        "disks-to-dba",
    )
    assert decision.routing.teams == ("dba", "dba-lead")
    # every condition must hold: a WARNING on the same entity is not rewritten
    assert (
        route_alert(
            CONFIG, "web", alert(entity_id="diskspace/db01", message_type="WARNING")
        ).routing.reason
        == "matched"
    )


def test_regex_and_details_conditions() -> None:
    bgp = route_alert(CONFIG, "", alert(source="thousandeyes", entity_display_name="BGP leak"))
    assert bgp.routing.rule == "te-bgp"
    by_field = route_alert(CONFIG, "", alert(details={"team": {"name": "web"}}))
    assert (by_field.routing.rule, by_field.routing_key) == ("by-field", "web")


def test_a_rule_to_an_unknown_key_falls_back_to_the_default_route_naming_the_rule() -> None:
    decision = route_alert(CONFIG, "web", alert(details={"monitoring": {"tool": "nagios"}}))
    assert (decision.routing.reason, decision.routing.rule, decision.routing.teams) == (
        "unknown",
        "nagios-lost",
        ("noc",),
    )


def test_no_config_means_no_routes() -> None:
    decision = route_alert(None, "web", alert())
    assert (decision.routing.reason, decision.routing.teams, decision.routing_key) == (
        "no_routes",
        (),
        None,
    )


@pytest.mark.parametrize("requested", ["web", "WEB ", "", "$routing_key", "no such", "b@d"])
def test_a_decision_without_rules_is_route_alerts_for_the_config_it_was_made_with(
    requested: str,
) -> None:
    """The memo of ``route_without_rules`` answers for the very config object it decided
    with: a config put in its place (as the route follower does) is decided again."""
    first = config_from_json("memo", {"routes": {"web": ["a"]}, "default_teams": ["noc"]})
    second = config_from_json("memo", {"routes": {"web": ["b"]}})
    for config in (None, first, first, second, None, second):
        assert route_without_rules("memo", config, requested) == route_alert(
            config, requested, alert()
        )


def test_config_round_trips_through_its_encoding() -> None:
    again = decode_config("acme", config_to_json(CONFIG))
    assert again.routes == CONFIG.routes
    assert again.default_teams == CONFIG.default_teams
    assert [r.name for r in again.rules] == [r.name for r in CONFIG.rules]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"not": "a list"}, "expected a list"),
        ([{"match": {"source": "x"}}], "set_routing_key"),
        ([{"match": {}, "set_routing_key": "a"}], "at least one condition"),
        ([{"match": {"colour": "red"}, "set_routing_key": "a"}], "match.colour"),
        ([{"match": {"source": {"regex": "("}}, "set_routing_key": "a"}], "bad regex"),
        ([{"match": {"source": "x"}, "set_routing_key": "a", "extra": 1}], "unknown keys"),
    ],
)
def test_bad_rules_are_refused_with_a_location(rules: object, message: str) -> None:
    with pytest.raises(RoutingConfigError, match=message):
        config_from_json("acme", {"rules": rules})
