"""``record``: the immutable value types of the pure core, at the speed of plain classes.

A ``@record`` class is a dataclass that type checkers treat as frozen (PEP 681's
``frozen_default``: mypy, which ``make test`` runs, refuses any assignment to a field), built at
runtime with ``__slots__`` and without the frozen machinery: a frozen dataclass sets each
field through ``object.__setattr__``, which cost ~2 µs per normalized alert and ~8 µs per
record across stage 1 and stage 2, a quarter of the core. Equality and hashing are by field,
as a frozen dataclass's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True)
def record(cls: type[T]) -> type[T]:
    return dataclass(slots=True, unsafe_hash=True)(cls)
