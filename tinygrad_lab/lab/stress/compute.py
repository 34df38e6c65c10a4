"""Everything the lab reports for one `LabRun`, as one typed `LabResult`.

`compute_lab` is the single place figures come from: reports, JSON, CSVs, plots, sweeps and the
class roster all render its result. The result holds plain figures only (no model, no
recorder), so it comes back from a process pool or a Dask cluster unchanged; only the writers
turn it into JSON (`LabResult.to_json`, the ``--json`` object documented in the README).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tinygrad_lab import nn
from tinygrad_lab.display import cell
from tinygrad_lab.lab.rules import LabConfig, LabRun
from tinygrad_lab.lab.stress.analysis import (
    AffineFold,
    affine_fold,
    diagnose,
    gradient_verdict,
    learned,
)
from tinygrad_lab.lab.stress.curvature import AGREEMENT, Curvature, absent, measure_curvature
from tinygrad_lab.lab.stress.part_a import (
    RunResult,
    StressResult,
    TrainingObserver,
    run_stress_test,
)
from tinygrad_lab.lab.stress.part_b import PartBResult, run_part_b
from tinygrad_lab.tensor import Tensor
from tinygrad_lab.trace import memory_by_layer

PARTS = ("a", "b")  # by default; "hessian" too checks λmax against the full Hessian
CURVATURE_RUNS = ("run1", "run2")  # the runs before and after the break: λmax at their ends


@dataclass(frozen=True)
class MemoryTable:
    """Bytes each layer's training forward pass saves for backward (`memory_by_layer`)."""

    per_layer: dict[str, int]
    total: int
    no_grad_total: int  # the same forward under no_grad: nothing is saved


@dataclass
class LabResult:
    """Every figure of one run of the lab; a part not computed is None."""

    run: LabRun
    part_a: StressResult | None = None
    memory: dict[str, MemoryTable] | None = None  # run name -> the table after its training
    q2: AffineFold | None = None  # the trained run-2 network folded into one affine map
    part_b: PartBResult | None = None
    # run name -> λmax of the loss's Hessian at its trained weights, against 2 / lr
    curvature: dict[str, Curvature] | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object: every figure as a number, None where undefined."""
        run = self.run
        out: dict[str, Any] = {
            "roll": run.roll,
            "seed": int(run.seed),
            "epochs": run.epochs,
            "config": config_json(run.config),
        }
        if self.memory is not None:
            out["memory"] = {name: asdict(table) for name, table in self.memory.items()}
        if self.part_a is not None:
            out["part_a"] = _part_a_json(self.part_a)
        if self.q2 is not None:
            out["q2"] = _q2_json(self.q2)
        if self.curvature is not None:
            out["curvature"] = {name: _curvature_json(c) for name, c in self.curvature.items()}
        if self.part_b is not None:
            out["part_b"] = asdict(self.part_b)
        return clean(out)


class _Measurements(TrainingObserver):
    """What the lab measures on the trained network besides the stress test's figures: each
    run's memory table, Q2's fold of the trained run-2 network (when it trained to the
    end: a diverged network has nothing to fold), and the loss's curvature (λmax) at the end
    of runs 1 and 2."""

    def __init__(self, run: LabRun, hessian_check: bool) -> None:
        self.run, self.epochs, self.hessian_check = run, run.epochs, hessian_check
        self.memory: dict[str, MemoryTable] = {}
        self.fold: AffineFold | None = None
        self.curvature: dict[str, Curvature] = {}

    def run_started(self, name: str, model: nn.Sequential, X: np.ndarray, y: np.ndarray) -> None:
        self.X, self.y, self.epochs_done = X, y, 0

    def epoch_done(self, name: str, epoch: int, model: nn.Sequential, loss: float) -> None:
        self.epochs_done = epoch

    def run_finished(self, name: str, model: nn.Sequential) -> None:
        model.eval()  # a forward in eval mode is not a training step for the recorder
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged network's bytes count too
            self.memory[name] = MemoryTable(**memory_by_layer(model, Tensor(self.X)))
        model.train()
        if name in CURVATURE_RUNS:
            self.curvature[name] = self._curvature(name, model)
        if name != "run2":
            return
        if self.epochs_done < self.epochs:  # training stopped at the first non-finite loss
            self.fold = AffineFold.absent(
                sum(isinstance(layer, nn.Linear) for layer in model),
                f"run 2's training diverged at epoch {self.epochs_done + 1} (its loss stopped "
                "being finite), so there is no trained network to fold",
            )
        else:
            self.fold = affine_fold(model, self.X)

    def _curvature(self, name: str, model: nn.Sequential) -> Curvature:
        lr = self.run.config.learning_rate
        if self.epochs_done < self.epochs:
            size = sum(p.size for p in model.parameters())
            reason = (
                f"{name}'s training diverged at epoch {self.epochs_done + 1}, so there are no "
                "trained weights to measure the curvature at"
            )
            return absent(lr, size, reason)
        return measure_curvature(model, self.X, self.y, lr, self.run.seed, self.hessian_check)


def compute_lab(run: LabRun, parts: tuple[str, ...] = PARTS) -> LabResult:
    """Run the lab's parts (``"a"``: Part A, Q2 and the curvature λmax; ``"hessian"``: with
    ``"a"``, the full Hessian's eigenvalues beside λmax, one backward a parameter, seconds: the
    command line adds it for a single run; ``"b"``: Part B) for ``run``."""
    result = LabResult(run)
    if "a" in parts:
        measured = _Measurements(run, "hessian" in parts)
        result.part_a = run_stress_test(run, measured)
        result.memory, result.q2 = measured.memory, measured.fold
        result.curvature = measured.curvature
    if "b" in parts:
        result.part_b = run_part_b(run.config)
    return result


# ------------------------------------------------------------------------------ JSON
def rules_json(config: LabConfig) -> list[dict[str, Any]]:
    """The spec table as JSON: one ``{quantity, rule, value, display}`` object a rule, the
    value as computed (a number as a number; null for an output size that is not a whole
    number) and its display text as the table shows it."""
    return [
        {
            "quantity": quantity,
            "rule": rule_text,
            "value": rule.computed if rule.displayed else rule.value,
            "display": cell(shown, 6),
        }
        for rule, (quantity, rule_text, shown) in zip(config.rules, config.table(), strict=True)
    ]


def config_json(config: LabConfig) -> dict[str, Any]:
    return {
        "a": config.a,
        "b": config.b,
        "c": config.c,
        "rules": rules_json(config),
        **config.network(),
        "assumptions": config.assumptions,
        "overrides": config.overrides,
    }


def _run_json(run: RunResult) -> dict[str, Any]:
    verdict, explanation = diagnose(run)
    trained = run.diverged_at is None  # a diverged run has neither verdict half
    return {
        **asdict(run),
        "losses": {str(epoch): loss for epoch, loss in run.losses.items()},
        "final_loss": run.final_loss,
        "dead_layers": run.dead_layers,
        "diagnosis": {
            "verdict": verdict,
            "explanation": explanation,
            "gradient": gradient_verdict(run)[0] if trained else None,
            "learned": learned(run) if trained else None,
        },
    }


def _part_a_json(stress: StressResult) -> dict[str, Any]:
    return {
        "seed": stress.run.seed,
        "epochs": stress.run.epochs,
        "mean_predictor_loss": stress.mean_predictor_loss,
        **{name: _run_json(run) for name, run in stress.runs().items()},
        "gri_change": stress.gri_change,
        "weight_grad_norm_series": stress.weight_grad_norm_series,
        "weight_grad_norm_series_stride": stress.weight_grad_norm_series_stride,
    }


def _q2_json(fold: AffineFold) -> dict[str, Any]:
    return {
        "rank": fold.rank,
        "max_abs_difference": fold.max_abs_difference,
        "linear_layers": fold.linear_layers,
        "effective_linear_layers": fold.effective_linear_layers,
        "weight": None if fold.weight is None else fold.weight.tolist(),
        "bias": None if fold.bias is None else fold.bias.tolist(),
        "absent_reason": fold.absent_reason,
    }


def _curvature_json(c: Curvature) -> dict[str, Any]:
    return {
        "learning_rate": c.learning_rate,
        "stability_limit": c.stability_limit,
        "lambda_max": c.lambda_max,
        "stable": c.stable,
        "headroom": c.headroom,
        "parameters": c.parameters,
        "power_iteration": None if c.power is None else asdict(c.power),
        "hessian_check": None
        if c.check is None
        else {**asdict(c.check), "agrees": c.check.agrees, "tolerance": AGREEMENT},
        "absent_reason": c.absent_reason,
    }


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
