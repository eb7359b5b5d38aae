"""Hypothesis strategies: JSON values, and near-valid variants of the sample bodies."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from schemas.registry import load_sources
from tests.processors.helpers import FIXTURES

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def samples(source: str) -> list[dict[str, Any]]:
    """The JSON sample bodies of ``source``: tests/fixtures/<source>/ and its folder's samples/."""
    paths = sorted((FIXTURES / source).glob("*.json"))
    info = load_sources().get(source)
    paths += [p for p in (info.samples if info else ()) if p.suffix == ".json"]
    return [json.loads(p.read_bytes()) for p in paths]


@st.composite
def variants(draw: st.DrawFn, source: str) -> Any:
    """A sample body with a few keys (top level or one level down) removed or replaced."""
    body: Any = json.loads(json.dumps(draw(st.sampled_from(samples(source)))))
    for _ in range(draw(st.integers(0, 3))):
        target = body
        nested = [k for k, v in body.items() if isinstance(v, dict)]
        if bool(nested) and draw(st.booleans()):  # bool(): else mypy wants a list from `draw`
            target = body[draw(st.sampled_from(nested))]
        keys = sorted(target) or ["x"]
        key = draw(st.sampled_from([*keys, "extra"]))
        if draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw(json_values)
    return body


TE_TYPES = [
    "WEBHOOK_TEST",
    "ALERT_NOTIFICATION_TRIGGER",
    "ALERT_NOTIFICATION_CLEAR",
    "AGENT_ALERT_NOTIFICATION_TRIGGER",
    "AGENT_ALERT_NOTIFICATION_CLEAR",
    "NEW_KIND",
]
ids = st.integers(0, 2**63 - 1) | st.text(min_size=1, max_size=20)
maybe_text = st.none() | st.text(max_size=20)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


thousandeyes_alerts = st.builds(
    lambda alert_id, severity, active, start, end, agents, extra: _drop_none(
        {
            "alertId": alert_id,
            "severity": severity,
            "active": active,
            "dateStart": start,
            "dateEnd": end,
            "agents": agents,
            "ruleName": extra,
            "testName": extra,
            **({"custom": extra} if extra else {}),
        }
    ),
    ids,
    st.none() | st.sampled_from(["Info", "MINOR", "major", "Critical", "weird"]),
    st.none() | st.sampled_from([0, 1, 2]),
    st.none() | st.sampled_from(["2025-03-17 19:43:00", "garbage", ""]),
    st.none() | st.sampled_from(["2025-03-17 20:05:00", "2025-13-45 99:99:99"]),
    st.none()
    | st.lists(
        st.dictionaries(
            st.sampled_from(["agentName", "agentId", "metricsAtStart", "metricsAtEnd"]),
            json_scalars,
        ),
        max_size=3,
    ),
    maybe_text,
)
agent_alerts = st.builds(
    lambda notification, start, host: _drop_none(
        {
            "agentNotificationId": notification,
            "dateStart": start,
            "hostname": host,
            "agentName": host,
            "active": 1,
        }
    ),
    st.none() | ids,
    st.none() | st.integers(-5, 2**40) | st.sampled_from(["1742240580", "x"]),
    maybe_text,
)


@st.composite
def structured(draw: st.DrawFn, source: str) -> Any:
    """Bodies shaped like the source's (mostly schema-valid), with random values."""
    if source == "thousandeyes":
        body: dict[str, Any] = {"eventType": draw(st.sampled_from(TE_TYPES)), "eventId": draw(ids)}
        if draw(st.booleans()):
            body["alert"] = draw(thousandeyes_alerts)
        if draw(st.booleans()):
            body["agentAlert"] = draw(agent_alerts)
        return body
    if source == "pingometer":
        return _drop_none(
            {
                "monitor_id": draw(st.integers(0, 2**40) | st.text(min_size=1, max_size=10)),
                "monitor_status": draw(st.sampled_from([0, 1, "0", "1"])),
                "monitor_name": draw(maybe_text),
                "url": draw(maybe_text),
                "message": draw(maybe_text),
                "hostname": draw(maybe_text),
            }
        )
    return _drop_none(
        {
            "message_type": draw(
                st.sampled_from(
                    ["CRITICAL", "warning", "Acknowledgement", "INFO", "recovery", "ok", "??"]
                )
                | st.text(max_size=8)
            ),
            "entity_id": draw(st.none() | st.text(min_size=1, max_size=40)),
            "state_message": draw(maybe_text),
            "timestamp": draw(st.none() | json_scalars),
            "vo_annotate.u.Runbook": draw(maybe_text),
            "vo_annotate.x.Bad": draw(maybe_text),
            "custom": draw(st.none() | json_values),
        }
    )
