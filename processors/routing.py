"""Routing: routing key -> teams per org, ordered rules that rewrite the routing key, and a
default route. Pure: the config comes in as data (the worker follows a compacted topic).

Rules are tried in order; the first whose every condition holds sets the routing key
(VictorOps' Alert Rules Engine, Alertmanager's routing tree). Conditions match the source,
message type, entity id or display name by glob (``*``, ``?``) or ``{"regex": ...}``, or a
details field equal to a value.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from schemas.errors import UsageError
from schemas.normalized import Routing
from schemas.records import record

ROUTING_KEY = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
PLACEHOLDER = "$routing_key"
MATCH_FIELDS = ("source", "message_type", "entity_id", "entity_display_name")


class RoutingConfigError(UsageError, ValueError):
    """A routing config or rule file that cannot be used; the message says where."""


@dataclass(frozen=True)
class Pattern:
    text: str
    regex: re.Pattern[str]

    @classmethod
    def parse(cls, where: str, spec: Any) -> Pattern:
        if isinstance(spec, str):
            return cls(spec, re.compile(fnmatch.translate(spec), re.IGNORECASE))
        if isinstance(spec, dict) and set(spec) == {"regex"} and isinstance(spec["regex"], str):
            try:
                return cls(f"regex:{spec['regex']}", re.compile(spec["regex"]))
            except re.error as exc:
                raise RoutingConfigError(f"{where}: bad regex: {exc}") from None
        raise RoutingConfigError(f"{where}: expected a glob string or {{regex: ...}}")

    def matches(self, value: str) -> bool:
        return (
            self.regex.search(value) is not None
            if self.text.startswith("regex:")
            else (self.regex.match(value) is not None)
        )


@dataclass(frozen=True)
class RoutingRule:
    name: str
    set_routing_key: str
    patterns: tuple[tuple[str, Pattern], ...] = ()
    details_equal: tuple[tuple[str, Any], ...] = ()

    def matches(self, alert: Mapping[str, Any]) -> bool:
        for name, pattern in self.patterns:
            value = alert.get(name)
            if not isinstance(value, str) or not pattern.matches(value):
                return False
        details = alert.get("details") or {}
        return all(_lookup(details, path) == (True, want) for path, want in self.details_equal)


def _lookup(data: Any, dotted: str) -> tuple[bool, Any]:
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return False, None
        data = data[part]
    return True, data


@dataclass(frozen=True)
class RoutingConfig:
    org: str
    routes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # lower-case key -> teams
    default_teams: tuple[str, ...] = ()
    rules: tuple[RoutingRule, ...] = ()
    # Kept as given so the config round-trips through the topic unchanged.
    rules_source: tuple[dict[str, Any], ...] = ()


def parse_rules(specs: Any) -> tuple[RoutingRule, ...]:
    if not isinstance(specs, list):
        raise RoutingConfigError("rules: expected a list")
    rules = []
    for i, spec in enumerate(specs):
        where = f"rules[{i}]"
        if not isinstance(spec, dict):
            raise RoutingConfigError(f"{where}: expected a mapping")
        unknown = set(spec) - {"name", "match", "set_routing_key"}
        if unknown:
            raise RoutingConfigError(f"{where}: unknown keys {sorted(unknown)}")
        key = spec.get("set_routing_key")
        if not isinstance(key, str) or not ROUTING_KEY.match(key):
            raise RoutingConfigError(f"{where}.set_routing_key: letters, digits, '-', '_'")
        match = spec.get("match") or {}
        if not isinstance(match, dict) or not match:
            raise RoutingConfigError(f"{where}.match: at least one condition is needed")
        patterns: list[tuple[str, Pattern]] = []
        details: list[tuple[str, Any]] = []
        for name, cond in match.items():
            if name in MATCH_FIELDS:
                patterns.append((name, Pattern.parse(f"{where}.match.{name}", cond)))
            elif name == "details" and isinstance(cond, dict) and cond:
                details.extend((str(k), v) for k, v in cond.items())
            else:
                raise RoutingConfigError(
                    f"{where}.match.{name}: use {', '.join(MATCH_FIELDS)} or details"
                )
        name = str(spec.get("name") or f"rule-{i + 1}")
        rules.append(RoutingRule(name, key.lower(), tuple(patterns), tuple(details)))
    return tuple(rules)


def config_from_json(org: str, data: Mapping[str, Any]) -> RoutingConfig:
    routes = data.get("routes") or {}
    if not isinstance(routes, dict):
        raise RoutingConfigError("routes: expected a mapping of routing key -> teams")
    clean: dict[str, tuple[str, ...]] = {}
    for key, teams in routes.items():
        if not ROUTING_KEY.match(str(key)):
            raise RoutingConfigError(f"routes: bad routing key {key!r}")
        clean[str(key).lower()] = tuple(str(t) for t in teams)
    rules = data.get("rules") or []
    if not isinstance(rules, list):
        raise RoutingConfigError("rules: expected a list")
    rules_source = tuple(rules)
    return RoutingConfig(
        org=org,
        routes=clean,
        default_teams=tuple(str(t) for t in data.get("default_teams") or ()),
        rules=parse_rules(list(rules_source)),
        rules_source=rules_source,
    )


def config_to_json(config: RoutingConfig) -> bytes:
    return orjson.dumps(
        {
            "org": config.org,
            "routes": {k: list(v) for k, v in config.routes.items()},
            "default_teams": list(config.default_teams),
            "rules": list(config.rules_source),
        }
    )


def decode_config(org: str, value: bytes) -> RoutingConfig:
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise RoutingConfigError(f"routing config of {org} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RoutingConfigError(f"routing config of {org} is not an object")
    return config_from_json(org, data)


@record
class RouteDecision:
    routing_key: str | None
    routing: Routing


def route_alert(
    config: RoutingConfig | None, requested: str, alert: Mapping[str, Any]
) -> RouteDecision:
    """Decide the routing key and teams for one alert (``alert``: the normalized fields)."""
    if config is None:
        return RouteDecision(None, Routing(requested, "no_routes", ()))
    for rule in config.rules:
        if rule.matches(alert):
            teams = config.routes.get(rule.set_routing_key)
            if teams is not None:
                return RouteDecision(
                    rule.set_routing_key, Routing(requested, "rule", teams, rule.name)
                )
            return RouteDecision(
                None, Routing(requested, "unknown", config.default_teams, rule.name)
            )
    key = requested.strip()
    if not key:
        reason = "missing"
    elif key.lower() == PLACEHOLDER:
        reason = "placeholder"
    elif not ROUTING_KEY.match(key):
        reason = "invalid"
    elif key.lower() in config.routes:
        return RouteDecision(key.lower(), Routing(requested, "matched", config.routes[key.lower()]))
    else:
        reason = "unknown"
    return RouteDecision(None, Routing(requested, reason, config.default_teams))


# Without rules the decision depends on the org's config and the routing key only, and a
# stream repeats a few of those: decided once (~0.4 µs and two records a raw record). A
# config is never changed in place (the route follower, ``processors.routestore``, puts a new
# one under its org), so an entry holds the config it was decided with and counts only for
# that very object: a new config is decided again. Bounded: emptied when it is full.
_DECIDED: dict[tuple[str, str], tuple[RoutingConfig | None, RouteDecision]] = {}
_DECIDED_MAX = 4096
_NO_FIELDS: Mapping[str, Any] = {}


def route_without_rules(org: str, config: RoutingConfig | None, requested: str) -> RouteDecision:
    """``route_alert(config, requested, ...)`` for a ``config`` without rules (or None): the
    same decision, shared by every alert routed so."""
    known = _DECIDED.get((org, requested))
    if known is not None and known[0] is config:
        return known[1]
    decision = route_alert(config, requested, _NO_FIELDS)
    if len(_DECIDED) >= _DECIDED_MAX:
        _DECIDED.clear()
    _DECIDED[org, requested] = (config, decision)
    return decision
