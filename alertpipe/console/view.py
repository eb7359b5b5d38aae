"""The console's picture of the pipeline: state derived from Kafka only, kept current by
following the topics (the way the ingress follows its keys and the worker its routes), so a
page is rendered from memory, not from a read of 100,000 dead letters.

- integration keys, routes, maintenance windows: the compacted topics, whole;
- incidents: the worker group's changelog, folded like ``alertpipe incidents``;
- dead letters: a summary of every record of the dead-letter topic;
- webhooks per source: the raw topic from an hour back;
- the alerts of each incident: the delivery topic from ``ALERTS_BACK_MS`` back.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from alertpipe.console.activity import KEEP_MINUTES, MINUTE_MS, Activity
from alertpipe.console.deadletters import DeadLetterIndex
from alertpipe.console.follow import TopicFollower
from alertpipe.console.incidentview import IncidentAlertIndex
from ingest.keystore import KeyStore
from kafkaio.clients import KafkaTarget
from kafkaio.settings import TopicSettings
from processors.changelog import ChangelogFormatError, IncidentTable
from processors.maintenancestore import MaintenanceStore
from processors.routestore import RouteStore

log = logging.getLogger("alertpipe.console.view")
# How far back the delivery topic is read: the events of incidents seen this long ago (an
# incident older than that lists none), and the teams of those whose state does not record
# them (written before the worker did: the team filter finds those only from here).
ALERTS_BACK_MS = 24 * 3_600_000


class ConsoleView:
    def __init__(self, kafka: KafkaTarget, topics: TopicSettings, changelog: str) -> None:
        self.topics = topics
        self.changelog = changelog
        self.keys = KeyStore(kafka, topics.integrations)
        self.routes = RouteStore(kafka, topics.routes)
        self.windows = MaintenanceStore(kafka, topics.maintenance)
        self.incidents = IncidentTable()
        self.dead = DeadLetterIndex()
        self.activity = Activity()
        self.incident_alerts = IncidentAlertIndex()
        self.changelog_problem: str | None = None
        now = int(time.time() * 1000)
        self.followers = [
            TopicFollower(kafka, changelog, self._on_state),
            TopicFollower(kafka, topics.dead_letter, self._on_dead_letter),
            TopicFollower(kafka, topics.raw, self._on_raw, now - KEEP_MINUTES * MINUTE_MS),
            TopicFollower(kafka, topics.normalized, self._on_alert, now - ALERTS_BACK_MS),
        ]

    async def start(self) -> None:
        for store in (self.keys, self.routes, self.windows):
            await store.start()
        for follower in self.followers:
            follower.start()

    async def stop(self) -> None:
        for follower in self.followers:
            await follower.stop()
        for store in (self.keys, self.routes, self.windows):
            await store.stop()

    def problems(self) -> list[str]:
        """What is not loaded (yet), for a banner on every page."""
        found = [s.problem for s in (self.keys, self.routes, self.windows) if s.problem]
        found += [f.problem for f in self.followers if f.problem]
        return found + ([self.changelog_problem] if self.changelog_problem else [])

    def _on_state(self, record: Any) -> None:
        try:
            self.incidents.feed(
                record.key, record.value, list(record.headers or ()), record.partition,
                record.offset,
            )  # fmt: skip
        except ChangelogFormatError as exc:
            self.changelog_problem = f"cannot read {self.changelog}: {exc}"
            log.error("%s", self.changelog_problem)

    def _on_dead_letter(self, record: Any) -> None:
        headers = list(record.headers or ())
        self.dead.feed(record.partition, record.offset, record.timestamp, headers)
        self.activity.feed_dead_letter(record.timestamp)

    def _on_raw(self, record: Any) -> None:
        self.activity.feed_raw(
            self.topics.raw, record.partition, record.offset, list(record.headers or ())
        )

    def _on_alert(self, record: Any) -> None:
        try:
            alert = orjson.loads(record.value or b"")
        except orjson.JSONDecodeError:
            return
        if isinstance(alert, dict):
            ref = (self.topics.normalized, record.partition, record.offset)
            self.activity.feed_alert(alert, ref)
            self.incident_alerts.feed(alert, ref)
