"""``processors.drain.step``: a delivery runs in the caller until it must wait, and the rest
behaves as the coroutine would have in a task of its own."""

from __future__ import annotations

import asyncio

import pytest

from processors.drain import step


async def test_a_coroutine_that_never_waits_finishes_inside_step() -> None:
    done: list[int] = []

    async def deliver() -> None:
        done.append(1)

    assert step(deliver()) is None
    assert done == [1]


async def test_the_rest_resumes_with_what_the_future_gave_and_returns_the_result() -> None:
    gate: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    seen: list[str] = []

    async def deliver() -> int:
        seen.append("before")
        value = await gate
        seen.append("after")
        return value * 2

    rest = step(deliver())
    assert rest is not None
    assert seen == ["before"]
    task = asyncio.ensure_future(rest)
    await asyncio.sleep(0)
    assert not task.done()
    gate.set_result(21)
    assert await task == 42
    assert seen == ["before", "after"]


async def test_several_waits_including_bare_yields() -> None:
    async def deliver() -> str:
        await asyncio.sleep(0)
        await asyncio.sleep(0.001)
        await asyncio.sleep(0)
        return "ok"

    rest = step(deliver())
    assert rest is not None
    assert await rest == "ok"


async def test_cancelling_the_rest_cancels_the_coroutine_where_it_waits() -> None:
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    cleaned: list[str] = []

    async def deliver() -> None:
        try:
            await gate
        finally:
            cleaned.append("finally")

    rest = step(deliver())
    assert rest is not None
    task = asyncio.ensure_future(rest)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["finally"]
    assert gate.cancelled()  # the task cancelled what the coroutine waited for


async def test_a_coroutine_may_catch_the_cancellation_and_return() -> None:
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def deliver() -> str:
        try:
            await gate
        except asyncio.CancelledError:
            return "gave up"
        return "delivered"

    rest = step(deliver())
    assert rest is not None
    task = asyncio.ensure_future(rest)
    await asyncio.sleep(0)
    task.cancel()
    assert await task == "gave up"


async def test_errors_before_and_after_the_first_wait_propagate() -> None:
    async def fails_at_once() -> None:
        raise ValueError("at once")

    with pytest.raises(ValueError, match="at once"):
        step(fails_at_once())

    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise KeyError("later")

    rest = step(fails_later())
    assert rest is not None
    with pytest.raises(KeyError, match="later"):
        await rest


async def test_raced_like_the_consumer_does_a_suspended_flow_abandons_the_delivery() -> None:
    room: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
    room.put_nowait(0)  # full: the next put waits
    suspended = asyncio.Event()

    rest = step(room.put(1))
    assert rest is not None
    put = asyncio.ensure_future(rest)
    flow = asyncio.ensure_future(suspended.wait())
    suspended.set()
    done, _pending = await asyncio.wait({put, flow}, return_when=asyncio.FIRST_COMPLETED)
    assert done == {flow}
    put.cancel()
    with pytest.raises(asyncio.CancelledError):
        await put
    assert room.get_nowait() == 0
    assert room.empty()  # the abandoned record never entered the buffer
