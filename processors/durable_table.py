"""A faust Table whose changelog writes can be awaited.

faust sends a table's changelog records through its producer buffer and, before committing
offsets, flushes that buffer with ``ProducerBuffer.flush``, which returns as soon as 0.1 s pass
without a message leaving it (faust-streaming 0.15, ``transport/producer.py``). Under load the
offsets of a batch could then be committed while its state is not yet in the changelog; a crash
in that window restores an older state without replaying the events that led past it, and the
incident decisions drift from a clean run. The stage-2 agent therefore awaits every changelog
record of a batch (``take_unconfirmed``) before its events are acknowledged.
"""

from __future__ import annotations

from typing import Any

import faust


class DurableTable(faust.Table[bytes, bytes]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unconfirmed: list[Any] = []

    def send_changelog(self, *args: Any, **kwargs: Any) -> Any:
        sent = super().send_changelog(*args, **kwargs)
        self._unconfirmed.append(sent)
        return sent

    def take_unconfirmed(self) -> list[Any]:
        """The changelog records sent since the last call (futures: done once Kafka has them)."""
        taken, self._unconfirmed = self._unconfirmed, []
        return taken
