"""The sizes of a bench run: `quick` (about 3 minutes on 2 cores, broker start included) and
`full` (the issue's sizes). Pure data; `bench.run` prints the one it used."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

SECTIONS = ("micro", "ingress", "worker", "e2e", "state", "replay")


@dataclass(frozen=True)
class Profile:
    name: str
    repeat: int  # repetitions of each speed figure (and its ceiling)
    ingress_requests: int  # POSTs per ingress repetition
    ingress_concurrency: int  # keep-alive connections of the load generator
    worker_records: int  # raw records prefilled for each worker repetition
    worker_repeat: int  # repetitions of the worker section (each: passthrough, then per
    # guarantee the no-work app and the worker)
    e2e_rate: int  # the fixed offered rate (webhooks/s)
    e2e_seconds: float  # duration of each step
    e2e_step: int  # added to the rate per step
    e2e_max_steps: int  # steps above the base rate, at most (stops earlier when p99 breaks)
    e2e_repeat: int  # repetitions at the base rate (steps above run once)
    state_incidents: int  # incident states in the table for memory and recovery
    state_repeat: int  # recoveries timed
    micro_number: int  # calls per timing of the in-process figures
    partitions: int = 6

    def sizes(self) -> dict[str, Any]:
        out = asdict(self)
        del out["name"]
        return out


QUICK = Profile(
    name="quick",
    repeat=3,
    ingress_requests=4_000,
    ingress_concurrency=64,
    worker_records=20_000,
    worker_repeat=2,
    e2e_rate=1_000,
    e2e_seconds=5,
    e2e_step=1_000,
    e2e_max_steps=1,
    e2e_repeat=1,
    state_incidents=50_000,
    state_repeat=1,
    micro_number=2_000,
)

FULL = Profile(
    name="full",
    repeat=5,
    ingress_requests=30_000,
    ingress_concurrency=64,
    worker_records=100_000,
    worker_repeat=5,
    e2e_rate=1_000,
    e2e_seconds=30,
    e2e_step=1_000,
    e2e_max_steps=6,
    e2e_repeat=3,
    state_incidents=1_000_000,
    state_repeat=2,
    micro_number=20_000,
)

PROFILES = {p.name: p for p in (QUICK, FULL)}


def with_repeat(profile: Profile, repeat: int | None) -> Profile:
    """``--repeat N`` overrides the repetitions of every figure."""
    if repeat is None:
        return profile
    return replace(
        profile, repeat=repeat, worker_repeat=repeat, e2e_repeat=repeat, state_repeat=repeat
    )


def parse_sections(text: str | None) -> tuple[str, ...]:
    """``--only ingress,worker`` -> those sections in run order; unknown names are an error."""
    if not text:
        return SECTIONS
    wanted = {s.strip() for s in text.split(",") if s.strip()}
    unknown = wanted - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown section(s) {sorted(unknown)}; known: {', '.join(SECTIONS)}")
    return tuple(s for s in SECTIONS if s in wanted)
