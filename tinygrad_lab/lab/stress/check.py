"""``tinygrad-lab check``: train the lab's network (Part A's own loop, run 1 → break → run 2) and,
at every epoch, compare autograd's gradients with the notebook's matrix-form reference computed
from the same current weights (so rounding cannot pile up), and the final loss of each when
each trains on its own."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tinygrad_lab import nn
from tinygrad_lab.lab.rules import LabRun
from tinygrad_lab.lab.stress.compute import clean
from tinygrad_lab.lab.stress.part_a import TrainingObserver, run_stress_test
from tinygrad_lab.reference import matrix_form as reference
from tinygrad_lab.reference.selfcheck import mlp_structure, reference_gradients

GRADIENT_TOLERANCE = 1e-10  # per-epoch gradients, relative to the largest entry of each
LOSS_TOLERANCE = 1e-9  # final losses of the two trainings, relative
QUANTITIES = ("dZ", "dW", "db")  # in the order backward computes them


@dataclass(frozen=True)
class CheckFailure:
    """The first disagreement: closest to the output, at the earliest epoch."""

    run: str
    epoch: int
    layer: str  # "<index>:Linear", or "loss" for the final losses
    quantity: str
    relative_difference: float  # NaN when a side is not finite
    reason: str | None = None  # why the two could not be compared (a diverged training)


@dataclass
class RunCheck:
    worst_relative: dict[str, dict[str, float]]  # layer -> quantity -> worst over all epochs
    final_loss_autograd: float
    final_loss_reference: float
    final_loss_relative_difference: float
    epochs_compared: int  # fewer than the run's epochs when its loss stopped being finite


@dataclass
class CheckResult:
    run: LabRun
    runs: dict[str, RunCheck]
    first_failure: CheckFailure | None
    gradient_tolerance: float = GRADIENT_TOLERANCE
    loss_tolerance: float = LOSS_TOLERANCE

    @property
    def passed(self) -> bool:
        return self.first_failure is None

    def to_json(self) -> dict[str, Any]:
        """The ``check --json`` object (non-finite figures as null)."""
        return clean(
            {
                "roll": self.run.roll,
                "seed": int(self.run.seed),
                "epochs": self.run.epochs,
                "gradient_tolerance": self.gradient_tolerance,
                "loss_tolerance": self.loss_tolerance,
                "runs": {name: asdict(run) for name, run in self.runs.items()},
                "first_failure": asdict(self.first_failure) if self.first_failure else None,
                "passed": self.passed,
            }
        )


def _relative(ours: np.ndarray, theirs: np.ndarray) -> float:
    worst = float(np.max(np.abs(ours - theirs)))
    scale = float(np.max(np.abs(theirs)))
    return worst / scale if scale > 0 else worst


class _Checker(TrainingObserver):
    """Compares every epoch's gradients with the reference's, and keeps the reference's own
    network (run 1's initial weights, then the inserted layers' at the break) to train it."""

    def __init__(self, run: LabRun) -> None:
        self.run = run
        self.weights: list[np.ndarray] = []  # the reference's network, trained by itself
        self.biases: list[np.ndarray] = []
        self.runs: dict[str, RunCheck] = {}
        self.first_failure: CheckFailure | None = None

    def _fail(self, *failure: Any) -> None:
        if self.first_failure is None:
            self.first_failure = CheckFailure(*failure)

    def _compare(self, name: str, epoch: int, label: str, quantity: str, value: float) -> None:
        """Fail on a difference over the tolerance, or one that is not finite: NaN compares
        as not greater than anything, and must not pass as agreement."""
        if not math.isfinite(value):
            reason = f"cannot compare: a {quantity} is not finite (after divergence)"
            self._fail(name, epoch, label, quantity, value, reason)
        elif value > GRADIENT_TOLERANCE:
            self._fail(name, epoch, label, quantity, value)

    def _copy_layer(self, layer: nn.Linear, at: int) -> None:
        self.weights.insert(at, layer.weight.data.copy())
        self.biases.insert(at, layer.bias.data.reshape(1, -1).copy())

    def run_started(self, name: str, model: nn.Sequential, X: np.ndarray, y: np.ndarray) -> None:
        self.X, self.y = X, y
        self.linear, self.activations = mlp_structure(model)
        if not self.weights:  # run 1: the whole network
            for index in self.linear:
                self._copy_layer(model[index], len(self.weights))
        else:  # the break: the inserted layers, in order, before the output layer
            for index in self.linear[len(self.weights) - 1 : -1]:
                self._copy_layer(model[index], -1)  # the notebook's weights.insert(-1, W)
        self.loss = math.nan
        self.outputs: dict[int, Any] = {}  # each Linear layer's output, its .grad retained: dZ
        self.handles = [
            model[i].register_forward_hook(
                lambda m, inputs, out, i=i: self.outputs.__setitem__(i, out.retain_grad())
            )
            for i in self.linear
        ]
        self.worst = {
            nn.LayerLabel(i, "Linear"): dict.fromkeys(QUANTITIES, 0.0) for i in self.linear
        }
        self.epochs_done = 0

    def epoch_done(self, name: str, epoch: int, model: nn.Sequential, loss: float) -> None:
        linear = [model[i] for i in self.linear]
        ours = {
            "dW": [layer.weight.grad for layer in linear],
            "db": [layer.bias.grad for layer in linear],
            "dZ": [self.outputs[i].grad for i in self.linear],
        }
        _, *reference_grads = reference_gradients(model, self.X, self.y)
        theirs = dict(zip(("dW", "db", "dZ"), reference_grads, strict=True))
        for k in reversed(range(len(self.linear))):  # output layer first, as backward runs
            label = nn.LayerLabel(self.linear[k], "Linear")
            for quantity in QUANTITIES:
                value = _relative(ours[quantity][k], theirs[quantity][k])
                worst = self.worst[label][quantity]
                if not (math.isnan(worst) or value <= worst):  # a NaN, once seen, stays
                    self.worst[label][quantity] = value
                self._compare(name, epoch, label, quantity, value)
        self.loss, self.epochs_done = loss, epoch

    def run_finished(self, name: str, model: nn.Sequential) -> None:
        for handle in self.handles:
            handle.remove()
        if self.epochs_done < self.run.epochs:  # the stress test stops at a non-finite loss
            diverged = self.epochs_done + 1
            reason = (
                f"cannot compare after divergence at epoch {diverged}: autograd's loss is not "
                "finite"
            )
            self._fail(name, diverged, "loss", "loss", math.nan, reason)
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging reference is reported
            losses, _, _ = reference.train(
                self.X,
                self.y,
                self.weights,
                self.biases,
                self.run.config.learning_rate,
                self.run.epochs,
                self.activations,
            )
        difference = abs(self.loss - losses[-1]) / max(abs(losses[-1]), 1e-300)
        if not math.isfinite(difference):
            reason = "cannot compare the final losses: one of them is not finite"
            self._fail(name, self.run.epochs, "loss", "loss", difference, reason)
        elif difference > LOSS_TOLERANCE:
            self._fail(name, self.run.epochs, "loss", "loss", difference)
        self.runs[name] = RunCheck(self.worst, self.loss, losses[-1], difference, self.epochs_done)


def check_lab(run: LabRun) -> CheckResult:
    """Both runs of Part A with a gradient comparison at every epoch: the worst relative
    difference per run, layer and quantity, the first disagreement and the final losses."""
    checker = _Checker(run)
    run_stress_test(run, checker)
    return CheckResult(run, checker.runs, checker.first_failure)


def format_check(result: CheckResult) -> str:
    """The check's printed report."""
    run = result.run
    lines = [
        f"self-check, roll {run.roll}, seed {run.seed}, {run.epochs} "
        f"epochs a run: autograd against the notebook's matrix-form backprop",
        "",
        f"worst difference over all epochs, relative to the largest entry of each gradient "
        f"(tolerance {result.gradient_tolerance:g}):",
    ]
    for name, figures in result.runs.items():
        lines += ["", f"{name}: {'layer':<10} {'dW':>10} {'db':>10} {'dZ':>10}"]
        if figures.epochs_compared < run.epochs:
            compared = figures.epochs_compared
            lines.append(
                f"{'':6}(epochs 1–{compared} compared; the loss was not finite from epoch "
                f"{compared + 1})"
                if compared
                else f"{'':6}(no epoch compared: the loss was not finite from epoch 1)"
            )
        for label, worst in figures.worst_relative.items():
            lines.append(f"{'':6}{label:<10} " + " ".join(f"{worst[q]:>10.2e}" for q in QUANTITIES))
        lines.append(
            f"{'':6}final loss: autograd {figures.final_loss_autograd:.17g}, "
            f"reference {figures.final_loss_reference:.17g} (relative difference "
            f"{figures.final_loss_relative_difference:.2e}, tolerance "
            f"{result.loss_tolerance:g})"
        )
    failure = result.first_failure
    lines.append("")
    if failure is None:
        lines.append("PASS: autograd agrees with the matrix-form reference everywhere.")
    elif failure.reason is not None:
        lines.append(f"FAIL: {failure.run}, epoch {failure.epoch}: {failure.reason}")
    else:
        lines.append(
            f"FAIL: {failure.run}, epoch {failure.epoch}, layer "
            f"{failure.layer}: {failure.quantity} differs by "
            f"{failure.relative_difference:.3g} (relative)"
        )
    return "\n".join(lines)
