"""What the delivery topic says about each incident, pure: its latest teams and routing key,
its last alerts (the events the console lists under it), and where the alert that opened it
is. The incident states themselves come from the worker's changelog
(``processors.changelog.IncidentTable``); this adds what the state does not keep."""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from processors.changelog import HeldIncident, IncidentFilter, current
from processors.incidents import IncidentPolicy

KEEP_EVENTS = 20  # alerts listed per incident
KEEP_ALERT_REFS = 200_000  # alert_id -> where it was delivered, the newest this many
KEEP_INCIDENTS = 200_000  # incidents whose alerts are kept, the most recently alerted
Ref = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class DeliveredEvent:
    alert_id: str
    message_type: str
    received_at: int
    state_message: str
    ref: Ref


@dataclass
class IncidentAlerts:
    teams: tuple[str, ...] = ()
    routing_key: str = ""  # as requested by its last alert (an operator's event reuses it)
    events: deque[DeliveredEvent] = field(default_factory=lambda: deque(maxlen=KEEP_EVENTS))


class IncidentAlertIndex:
    def __init__(self) -> None:
        self.by_incident: OrderedDict[str, IncidentAlerts] = OrderedDict()
        self.refs: OrderedDict[str, Ref] = OrderedDict()

    def feed(self, alert: dict[str, Any], ref: Ref) -> None:
        key = alert.get("incident_key")
        if not isinstance(key, str) or alert.get("is_test"):
            return
        routing = alert.get("routing") or {}
        held = self.by_incident.pop(key, None) or IncidentAlerts()
        self.by_incident[key] = held  # the most recently alerted last
        if len(self.by_incident) > KEEP_INCIDENTS:
            self.by_incident.popitem(last=False)
        held.teams = tuple(routing.get("teams") or ())
        held.routing_key = str(routing.get("requested") or "")
        alert_id = str(alert.get("alert_id", ""))
        held.events.append(DeliveredEvent(
            alert_id, str(alert.get("message_type", "")), int(alert.get("received_at") or 0),
            str(alert.get("state_message") or "")[:200], ref,
        ))  # fmt: skip
        self.refs[alert_id] = ref
        if len(self.refs) > KEEP_ALERT_REFS:
            self.refs.popitem(last=False)

    def of(self, incident_key: str) -> IncidentAlerts:
        return self.by_incident.get(incident_key) or IncidentAlerts()


@dataclass(frozen=True)
class IncidentQuery:
    org: str | None = None
    source: str | None = None
    team: str | None = None
    status: str | None = None  # None: open and acknowledged


def teams_of(incident: HeldIncident, alerts: IncidentAlertIndex) -> tuple[str, ...]:
    """The teams of the incident's latest alert: as its state records them, else (a state
    written before it did) as the delivery topic read back says."""
    return incident.state.teams or alerts.of(incident.incident_key).teams


def incident_rows(
    held: list[HeldIncident],
    alerts: IncidentAlertIndex,
    query: IncidentQuery,
    now: int,
    policy: IncidentPolicy,
) -> list[HeldIncident]:
    """The incidents held now that ``query`` matches, most recently seen first."""
    wanted = IncidentFilter(query.org, query.status, query.source)
    found = [
        i
        for i in current(held, now, policy, wanted)
        if (query.status is not None or i.state.status != "resolved")
        and (query.team is None or query.team in teams_of(i, alerts))
    ]
    found.sort(key=lambda i: i.state.last_seen, reverse=True)
    return found
