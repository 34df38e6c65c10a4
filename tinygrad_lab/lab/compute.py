"""Everything the lab reports for one roll number and seed, as one JSON-ready dict.

`compute_lab` is the single place figures come from: reports, JSON, CSVs, plots, sweeps and the
class roster all render its output. It is a plain module-level function of plain arguments, so a
process pool or a Dask cluster can run it.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import numpy as np

from tinygrad_lab.lab.analysis import affine_fold, diagnose, figures_of
from tinygrad_lab.lab.part_a import make_data, run_stress_test
from tinygrad_lab.lab.part_b import run_part_b
from tinygrad_lab.lab.rules import lab_config
from tinygrad_lab.trace import memory_by_layer

PARTS = ("a", "b")


def compute_lab(
    roll: str,
    seed: int = 0,
    epochs: int | None = None,
    activation: str | None = None,
    added_layers: int | None = None,
    parts: tuple[str, ...] = PARTS,
) -> dict[str, Any]:
    """Run the lab's parts for ``roll`` and return every figure (undefined values are None)."""
    config = lab_config(roll, activation=activation, added_layers=added_layers)
    results: dict[str, Any] = {
        "roll": config.roll,
        "seed": int(seed),
        "epochs": config.epochs if epochs is None else int(epochs),
        "config": {
            "a": config.a,
            "b": config.b,
            "c": config.c,
            "rules": [{"quantity": q, "rule": r, "value": v} for q, r, v in config.table()],
            "hidden_width": config.hidden_width,
            "hidden_layers": config.hidden_layers,
            "learning_rate": config.learning_rate,
            "activation": config.activation,
            "init_range": config.init_range,
            "added_layers": config.added_layers,
            "assumptions": config.assumptions,
        },
    }
    if "a" in parts:
        memory: dict[str, Any] = {}

        def measure(run: str, model: Any, X: Any) -> None:
            model.eval()  # a forward in eval mode is not a training step for the recorder
            memory[run] = memory_by_layer(model, X)
            model.train()

        stress = run_stress_test(config, seed, epochs, keep_model=True, after_run=measure)
        results["memory"] = memory
        part_a = stress.figures()
        for name, run in stress.runs().items():
            verdict, explanation = diagnose(run)
            part_a[name]["diagnosis"] = {"verdict": verdict, "explanation": explanation}
        gri1, gri2 = stress.run1.gri, stress.run2.gri
        part_a["gri_change"] = gri2 / gri1 if gri1 and gri2 is not None else None
        part_a["weight_grad_norm_series"] = _grad_series(stress.recorder)
        stress.recorder.detach()
        results["part_a"] = part_a
        X, _ = make_data(np.random.RandomState(seed), config.n_samples)
        results["q2"] = figures_of(affine_fold(stress.model, X))
    if "b" in parts:
        results["part_b"] = asdict(run_part_b(config))
    return clean(results)


def _grad_series(recorder: Any) -> dict[str, list[float | None]]:
    """Weight-gradient norm of every Linear layer at every step, keyed by the layer's label at
    the last step. Run 1's hidden layers keep their positions through the break and the output
    layer stays last, so each step's Linear layers map onto the final ones in that way; layers
    inserted at the break have None before it."""
    final_labels = [label for label in recorder.at_step() if label.endswith(":Linear")]
    series: dict[str, list[float | None]] = {
        label: [None] * recorder.step for label in final_labels
    }
    per_step: dict[int, list[tuple[int, float]]] = {}
    for record in recorder.records:
        if record.quantity == "weight_grad_norm" and record.layer.endswith(":Linear"):
            position = int(record.layer.split(":")[0])
            per_step.setdefault(record.step, []).append((position, record.value))
    for step, values in per_step.items():
        values.sort()
        targets = final_labels[: len(values) - 1] + final_labels[-1:]
        for label, (_, value) in zip(targets, values, strict=True):
            series[label][step - 1] = value
    return series


def clean(value: Any) -> Any:
    """JSON-safe copy: tuples and arrays to lists, numpy scalars to Python, non-finite floats to
    None."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
