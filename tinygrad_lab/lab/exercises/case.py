"""One run of an exercise: its inputs and settings (the grader's choice), and its outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

Outputs = dict[str, np.ndarray]


@dataclass
class Case:
    """Inputs (arrays) and settings (JSON: numbers, strings, lists) of one run."""

    arrays: dict[str, np.ndarray]
    settings: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in self.arrays.items())
        shown = {k: v for k, v in self.settings.items() if k not in ("seed", "diff")}
        return shapes + ("; " + ", ".join(f"{k}={v!r}" for k, v in shown.items()) if shown else "")
