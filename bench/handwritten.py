"""Hand-written Python equivalents of the Alertmanager and Grafana mapping files, written as a
Python source module would be (processors/sources/*.py), and the former Python mapping of the
VictorOps REST source (bench/handwritten_generic.py), for the mapping-cost bench: the
declarative mapping may cost at most 1.5x these per body. tests/bench/test_handwritten.py
checks that both give the same drafts on every sample."""

from __future__ import annotations

from typing import Any

from bench import handwritten_generic as generic
from processors.deadletter import MappingFailure
from processors.draft import FIELD_LIMIT, STATE_MESSAGE_LIMIT, AlertDraft, MapContext, clip
from processors.mapvalues import labels_hash, rfc3339_ms
from schemas.normalized import Annotation, MessageType

SEVERITY: dict[str, MessageType] = {
    "critical": "CRITICAL",
    "page": "CRITICAL",
    "high": "CRITICAL",
    "major": "CRITICAL",
    "error": "CRITICAL",
    "warning": "WARNING",
    "warn": "WARNING",
    "medium": "WARNING",
    "minor": "WARNING",
    "low": "WARNING",
    "info": "INFO",
    "informational": "INFO",
    "none": "INFO",
}


def _get(data: Any, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None


def _text(value: Any, limit: int = FIELD_LIMIT) -> str | None:
    return clip(value, limit) if isinstance(value, str) and value else None


def _message_type(alert: dict[str, Any], labels: Any) -> MessageType:
    if alert.get("status") == "resolved":
        return "RECOVERY"
    severity = _get(labels, "severity")
    if not isinstance(severity, str) or not severity:
        return "CRITICAL"
    return SEVERITY.get(severity.strip().lower(), "CRITICAL")


def _event_time(alert: dict[str, Any]) -> int | None:
    start = rfc3339_ms(alert.get("startsAt"))
    if alert.get("status") == "resolved":
        return rfc3339_ms(alert.get("endsAt")) or start
    return start


def _common(alert: Any, prefix: str) -> tuple[dict[str, Any], Any, Any, str, str | None]:
    if not isinstance(alert, dict):
        raise MappingFailure("mapping", f"an alert is an object, not {type(alert).__name__}")
    labels, annotations = alert.get("labels"), alert.get("annotations")
    fingerprint = alert.get("fingerprint")
    if isinstance(fingerprint, str) and fingerprint:
        entity = f"{prefix}:{fingerprint}"
    elif labels is not None and labels != "":
        entity = f"{prefix}:labels:{labels_hash(labels)}"
    else:
        raise MappingFailure("mapping", f"no entity id for a {prefix} alert")
    name, instance = _get(labels, "alertname"), _get(labels, "instance")
    display = f"{name} on {instance}" if isinstance(name, str) and name and instance else None
    return alert, labels, annotations, clip(entity, 512), display or _text(name)


def _summary(annotations: Any) -> str | None:
    parts = [_get(annotations, "summary"), _get(annotations, "description")]
    found = [p for p in parts if isinstance(p, str) and p]
    return "\n".join(found) if found else None


def _host(labels: Any) -> str | None:
    for key in ("hostname", "host", "instance"):
        value = _get(labels, key)
        if isinstance(value, str) and value:
            return clip(value)
    return None


def _links(pairs: list[tuple[str, str, Any]]) -> tuple[Annotation, ...]:
    return tuple(Annotation(k, t, v) for k, t, v in pairs if isinstance(v, str) and v)  # type: ignore[arg-type]


def _details(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return {k: v for k, v in pairs if v is not None}


def _alerts(data: dict[str, Any]) -> list[Any]:
    alerts = data.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise MappingFailure("mapping", "no alerts at alerts (a non-empty list)")
    return alerts


def alertmanager(data: dict[str, Any], ctx: MapContext) -> list[AlertDraft]:
    out = []
    for item in _alerts(data):
        alert, labels, annotations, entity, display = _common(item, "alertmanager")
        status = alert.get("status")
        state = _summary(annotations) or (
            f"{labels['alertname']} is {status}"
            if _get(labels, "alertname") and isinstance(status, str) and status
            else None
        )
        out.append(
            AlertDraft(
                message_type=_message_type(alert, labels),
                entity_id=entity,
                entity_display_name=display or entity,
                state_message=clip(state, STATE_MESSAGE_LIMIT) if state else "",
                monitoring_tool="Prometheus Alertmanager",
                hostname=_host(labels),
                event_time=_event_time(alert),
                annotations=_links(
                    [
                        ("url", "Source", alert.get("generatorURL")),
                        ("url", "Alertmanager", data.get("externalURL")),
                        ("url", "Runbook", _get(annotations, "runbook_url")),
                    ]
                ),
                details=_details(
                    [
                        ("status", status),
                        ("labels", labels),
                        ("annotations", annotations),
                        ("startsAt", alert.get("startsAt")),
                        ("endsAt", alert.get("endsAt")),
                        ("fingerprint", alert.get("fingerprint")),
                        ("receiver", data.get("receiver")),
                        ("groupKey", data.get("groupKey")),
                        ("groupLabels", data.get("groupLabels")),
                        ("truncatedAlerts", data.get("truncatedAlerts")),
                    ]
                ),
            )
        )
    return out


def grafana(data: dict[str, Any], ctx: MapContext) -> list[AlertDraft]:
    out = []
    for item in _alerts(data):
        alert, labels, annotations, entity, display = _common(item, "grafana")
        status = alert.get("status")
        is_test = _get(labels, "alertname") == "TestAlert" and _get(labels, "instance") == "Grafana"
        message = data.get("message")
        state = (
            _summary(annotations)
            or (message if isinstance(message, str) and message else None)
            or (
                f"{labels['alertname']} is {status}"
                if _get(labels, "alertname") and isinstance(status, str) and status
                else None
            )
        )
        out.append(
            AlertDraft(
                message_type="INFO" if is_test else _message_type(alert, labels),
                entity_id=entity,
                entity_display_name=display or _text(data.get("title")) or entity,
                state_message=clip(state, STATE_MESSAGE_LIMIT) if state else "",
                monitoring_tool="Grafana",
                hostname=_host(labels),
                event_time=_event_time(alert),
                annotations=_links(
                    [
                        ("url", "Alert rule", alert.get("generatorURL")),
                        ("url", "Dashboard", alert.get("dashboardURL")),
                        ("url", "Panel", alert.get("panelURL")),
                        ("url", "Silence", alert.get("silenceURL")),
                        ("url", "Runbook", _get(annotations, "runbook_url")),
                        ("image", "Screenshot", alert.get("imageURL")),
                        ("url", "Grafana", data.get("externalURL")),
                    ]
                ),
                details=_details(
                    [
                        ("status", status),
                        ("labels", labels),
                        ("annotations", annotations),
                        ("values", alert.get("values")),
                        ("valueString", alert.get("valueString")),
                        ("startsAt", alert.get("startsAt")),
                        ("endsAt", alert.get("endsAt")),
                        ("fingerprint", alert.get("fingerprint")),
                        ("orgId", data.get("orgId")),
                        ("state", data.get("state")),
                        ("title", data.get("title")),
                        ("receiver", data.get("receiver")),
                        ("groupKey", data.get("groupKey")),
                        ("groupLabels", data.get("groupLabels")),
                        ("truncatedAlerts", data.get("truncatedAlerts")),
                    ]
                ),
                is_test=is_test,
            )
        )
    return out


HANDWRITTEN = {"alertmanager": alertmanager, "generic": generic.map_event, "grafana": grafana}
