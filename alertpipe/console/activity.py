"""What arrived lately, pure: webhooks per source per minute and the last one seen (from the
raw topic's headers), dead letters per minute, and the alerts delivered for recent raw records
(so "Send test alert" can link the alert its request produced)."""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Sequence
from typing import Any

MINUTE_MS = 60_000
KEEP_MINUTES = 60
KEEP_REQUESTS = 20_000  # request id -> raw record, the newest this many
KEEP_ALERTS = 2_000  # raw record -> its alerts (whole), the newest this many

Headers = Sequence[tuple[str, bytes | None]]
RawRef = tuple[str, int, int]  # topic, partition, offset


def _header(headers: Headers, name: str) -> str:
    for key, value in headers:
        if key == name:
            return (value or b"").decode("utf-8", "replace")
    return ""


class Activity:
    def __init__(self) -> None:
        self.webhooks: Counter[tuple[str, int]] = Counter()  # (source, minute start)
        self.last_seen: dict[str, int] = {}  # source -> received_at (epoch ms)
        self.dead_letters: Counter[int] = Counter()  # minute start -> count
        self.requests: OrderedDict[str, RawRef] = OrderedDict()
        self.alerts: OrderedDict[RawRef, list[dict[str, Any]]] = OrderedDict()
        self._newest_minute = 0  # the counts older than the window go when a minute begins

    def feed_raw(self, topic: str, partition: int, offset: int, headers: Headers) -> None:
        source = _header(headers, "source") or "?"
        try:
            at = int(_header(headers, "received_at"))
        except ValueError:
            return
        minute = at - at % MINUTE_MS
        self.webhooks[(source, minute)] += 1
        if minute > self._newest_minute:
            self._newest_minute = minute
            self.forget_before(minute)
        self.last_seen[source] = max(at, self.last_seen.get(source, 0))
        request_id = _header(headers, "request_id")
        if request_id:
            self.requests[request_id] = (topic, partition, offset)
            if len(self.requests) > KEEP_REQUESTS:
                self.requests.popitem(last=False)

    def feed_dead_letter(self, timestamp: int) -> None:
        self.dead_letters[timestamp - timestamp % MINUTE_MS] += 1

    def feed_alert(self, alert: dict[str, Any], ref: RawRef) -> None:
        """``alert``: a normalized alert; ``ref``: where it is in the delivery topic."""
        raw = alert.get("raw") or {}
        key = (str(raw.get("topic")), int(raw.get("partition", -1)), int(raw.get("offset", -1)))
        self.alerts.setdefault(key, []).append({**alert, "_ref": ref})
        if len(self.alerts) > KEEP_ALERTS:
            self.alerts.popitem(last=False)

    def alerts_of_request(self, request_id: str) -> list[dict[str, Any]] | None:
        """The alerts delivered for the request's raw record; None: its record is not seen
        yet; [] its record is seen but no alert was delivered for it (yet)."""
        ref = self.requests.get(request_id)
        if ref is None:
            return None
        return self.alerts.get(ref, [])

    def per_minute(self, source: str | None, now_ms: int, minutes: int = KEEP_MINUTES) -> list[int]:
        """Webhooks per minute of the last ``minutes`` (oldest first); None: every source."""
        first = now_ms - now_ms % MINUTE_MS - (minutes - 1) * MINUTE_MS
        counts = [0] * minutes
        for (src, minute), n in self.webhooks.items():
            slot = (minute - first) // MINUTE_MS
            if 0 <= slot < minutes and source in (None, src):
                counts[slot] += n
        return counts

    def dead_per_minute(self, now_ms: int, minutes: int = KEEP_MINUTES) -> list[int]:
        first = now_ms - now_ms % MINUTE_MS - (minutes - 1) * MINUTE_MS
        counts = [0] * minutes
        for minute, n in self.dead_letters.items():
            slot = (minute - first) // MINUTE_MS
            if 0 <= slot < minutes:
                counts[slot] += n
        return counts

    def forget_before(self, now_ms: int) -> None:
        """Drop the per-minute counts older than the window (called now and then)."""
        oldest = now_ms - KEEP_MINUTES * MINUTE_MS
        for key in [k for k in self.webhooks if k[1] < oldest]:
            del self.webhooks[key]
        for minute in [m for m in self.dead_letters if m < oldest]:
            del self.dead_letters[minute]
