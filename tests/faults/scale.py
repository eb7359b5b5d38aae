"""How big the fault scenarios run. ``make test`` runs every scenario short (a few minutes in
all); ``make test-faults`` sets ALERTPIPE_FAULTS=full for the long versions (the soak runs 10
minutes). The invariants are the same at both sizes: only counts and durations change."""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

FULL = os.environ.get("ALERTPIPE_FAULTS", "short").strip().lower() == "full"
SIZE = "full" if FULL else "short"


def pick(short: T, full: T) -> T:
    """The short value under ``make test``, the full one under ``make test-faults``."""
    return full if FULL else short
