"""Handing fetched records to the streams without an asyncio task per record.

faust-streaming 0.15's consumer delivers every fetched record through
``Service.wait_first(callback(message), suspend_flow.wait())``: four tasks created and three
cancelled per record, so that a delivery blocked on a full stream buffer is abandoned when a
rebalance suspends the flow. Measured here (``/tmp``-style loop of 50,000 calls, 2-core
machine): ~84 µs per call against ~0.2 µs for awaiting the same coroutine, and the worker hands
every raw record to faust twice (raw -> stage 1 -> stage 2). The profile in
``docs/worker-profile.md`` put faust's per-message path at a third of the worker's time.

Almost every delivery finishes without waiting (there is room in the stream's buffer), so
``step`` runs the delivery coroutine to its first wait in the drain loop itself. Only a
delivery that has to wait is raced against the suspended flow, as faust does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator
from typing import Any


class Rest:
    """The remainder of an awaitable that ran until its first wait, as an awaitable.

    Awaiting it hands each future the awaitable waits for to the awaiting task and steps the
    awaitable as that task would: values and exceptions (a cancellation) are passed in, the
    result or exception comes out.
    """

    __slots__ = ("_coro", "_waiting_for")

    def __init__(self, coro: Generator[Any, Any, Any], waiting_for: Any) -> None:
        self._coro = coro
        self._waiting_for = waiting_for

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, waiting_for = self._coro, self._waiting_for
        while True:
            try:
                sent = yield waiting_for
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # a cancellation or an error thrown in by the task
                try:
                    waiting_for = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                waiting_for = coro.send(sent)
            except StopIteration as stop:
                return stop.value


def step(awaitable: Awaitable[Any]) -> Rest | None:
    """Run ``awaitable`` until it finishes (None) or has to wait (the rest, to be awaited).

    An exception raised before the first wait propagates from here.
    """
    coro = awaitable.__await__()
    try:
        waiting_for = coro.send(None)
    except StopIteration:
        return None
    return Rest(coro, waiting_for)
