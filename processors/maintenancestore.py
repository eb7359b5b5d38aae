"""Maintenance windows in Kafka: a compacted topic keyed by window id, which the worker
follows like the routes (``processors.routestore``), so a window started or ended with
``alertpipe maintenance`` applies to the next alert, without a restart."""

from __future__ import annotations

import logging

from kafkaio.clients import KafkaTarget
from kafkaio.follower import CompactedTopicFollower, OnRecord, publish_compacted, read_compacted
from processors.maintenance import (
    MaintenanceError,
    MaintenanceWindow,
    decode_window,
    encode_window,
    group_by_org,
)

log = logging.getLogger("alertpipe.processors.maintenance")


class WindowTable:
    """Every window by id, and the same grouped by org (what stage 2 looks up). The org view
    is replaced whole per change, so a reader in another thread sees an old or a new tuple."""

    def __init__(self) -> None:
        self.by_id: dict[str, MaintenanceWindow] = {}
        self.by_org: dict[str, tuple[MaintenanceWindow, ...]] = {}

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        window_id = key.decode("utf-8", "replace")
        old = self.by_id.get(window_id)
        if value is None:  # tombstone: forgotten (retention deletes old records instead)
            self.by_id.pop(window_id, None)
        else:
            try:
                window = decode_window(value)
            except MaintenanceError as exc:
                log.error("ignoring a bad maintenance window %s: %s", window_id, exc)
                return
            self.by_id[window_id] = window
            self._regroup(window.org)
        if old is not None:
            self._regroup(old.org)

    def _regroup(self, org: str) -> None:
        grouped = group_by_org(w for w in self.by_id.values() if w.org == org)
        if org in grouped:
            self.by_org[org] = grouped[org]
        else:
            self.by_org.pop(org, None)


class MaintenanceStore(CompactedTopicFollower):
    def __init__(self, kafka: KafkaTarget, topic: str) -> None:
        self.table = WindowTable()
        on_record: OnRecord = self.table.apply
        super().__init__(kafka, topic, on_record, "maintenance windows")


async def read_windows(kafka: KafkaTarget, topic: str) -> WindowTable:
    table = WindowTable()
    await read_compacted(kafka, topic, table.apply)
    return table


async def publish_window(kafka: KafkaTarget, topic: str, window: MaintenanceWindow) -> None:
    await publish_compacted(kafka, topic, window.id.encode(), encode_window(window))
