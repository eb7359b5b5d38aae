"""A batch runs to its end even when its agent is cancelled (faust acks on the way out)."""

from __future__ import annotations

import asyncio

import pytest

from processors.app import run_to_completion


async def test_a_cancelled_agent_finishes_its_batch_before_leaving() -> None:
    steps: list[str] = []

    async def batch() -> None:
        steps.append("emitted")
        await asyncio.sleep(0.2)
        steps.append("state written")

    agent = asyncio.ensure_future(run_to_completion(batch()))
    await asyncio.sleep(0.05)
    agent.cancel()
    await asyncio.sleep(0.01)
    agent.cancel()  # twice, as a hurried shutdown might
    with pytest.raises(asyncio.CancelledError):
        await agent
    assert steps == ["emitted", "state written"]


async def test_errors_of_the_batch_reach_the_agent() -> None:
    async def batch() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await run_to_completion(batch())
