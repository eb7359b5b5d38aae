"""A faust Table whose changelog writes can be awaited.

faust sends a table's changelog records through its producer buffer and, before committing
offsets, flushes that buffer with ``ProducerBuffer.flush``, which returns as soon as 0.1 s pass
without a message leaving it (faust-streaming 0.15, ``transport/producer.py``). Under load the
offsets of a batch could then be committed while its state is not yet in the changelog; a crash
in that window restores an older state without replaying the events that led past it, and the
incident decisions drift from a clean run. The stage-2 agent therefore awaits every changelog
record of a batch (``take_unconfirmed``) before its events are acknowledged.

Recovery refuses to go back in time: a worker that was evicted while frozen may still deliver
the states of its last batch after the new owner wrote newer ones (``processors.freeze``). When
a changelog record carries a state that the stored one supersedes (it has applied every raw
position the record's state has, and more), the record is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import faust

from processors.incidents import decode_state, supersedes


class DurableTable(faust.Table[bytes, bytes]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unconfirmed: list[Any] = []
        self.stale_skipped = 0  # changelog records refused by recovery (see above)

    def send_changelog(self, *args: Any, **kwargs: Any) -> Any:
        sent = super().send_changelog(*args, **kwargs)
        self._unconfirmed.append(sent)
        return sent

    def apply_changelog_batch(self, batch: Iterable[Any]) -> None:
        latest: dict[bytes, bytes | None] = {}
        kept = []
        for event in batch:
            key, value = event.message.key, event.message.value
            current = latest[key] if key in latest else self.data.get(key)
            if value is not None and current is not None and _stale(value, current):
                self.stale_skipped += 1
                continue
            latest[key] = value
            kept.append(event)
        super().apply_changelog_batch(kept)

    def take_unconfirmed(self) -> list[Any]:
        """The changelog records sent since the last call (futures: done once Kafka has them)."""
        taken, self._unconfirmed = self._unconfirmed, []
        return taken


def _stale(incoming: bytes, stored: bytes) -> bool:
    try:
        return supersedes(decode_state(stored), decode_state(incoming))
    except (ValueError, TypeError):  # not a state we wrote: apply it as faust would
        return False
