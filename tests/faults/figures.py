"""Each scenario's figures: printed by the test, collected for the end-of-run table (printed
even without -s), and written to .cache/faults/last-run.json for docs/reliability.md."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / ".cache" / "faults" / "last-run.json"


@dataclass
class Figures:
    scenario: str
    size: str
    values: dict[str, object] = field(default_factory=dict)

    def __setitem__(self, name: str, value: object) -> None:
        self.values[name] = round(value, 2) if isinstance(value, float) else value

    def update(self, **values: object) -> None:
        for name, value in values.items():
            self[name] = value

    def line(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.values.items())
        return f"[{self.scenario} ({self.size})] {shown}"

    def show(self) -> None:
        print("\n" + self.line(), flush=True)


def save(all_figures: list[Figures]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "finished_at": time.strftime("%Y-%m-%d %H:%M:%S"),
                "scenarios": [
                    {"scenario": f.scenario, "size": f.size, **f.values} for f in all_figures
                ],
            },
            indent=2,
        )
        + "\n"
    )
