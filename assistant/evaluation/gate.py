"""The regression gate: an evaluation summary must stay at or above committed floors.

Floors live in ``corpus/eval/floors.json`` ({"survey": {metric: floor}, "survey_test": {...},
"cmrc_sample": {...}}), set from real runs a little under the measured figures; ``make test``
runs the gate.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..settings import SOURCE_ROOT

FLOORS_PATH = SOURCE_ROOT / "corpus" / "eval" / "floors.json"


def load_floors(path: Path = FLOORS_PATH) -> dict[str, dict[str, float]]:
    floors = json.loads(path.read_text(encoding="utf-8"))
    return {name: values for name, values in floors.items() if not name.startswith("_")}


def below_floors(summary: dict, floors: dict[str, float]) -> list[str]:
    """One line per metric under its floor (empty when the gate passes)."""
    failures = []
    for metric, floor in floors.items():
        value = summary.get(metric)
        if value is None or value < floor:
            failures.append(f"{metric} = {value} is below the floor {floor}")
    return failures
