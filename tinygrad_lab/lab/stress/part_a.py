"""Part A, the gradient-flow stress test (lab-spec §2), on tinygrad_lab's own layers.

`run_stress_test` is the one place "run 1 → structural break → run 2 → run 3" is written (run 3
is the notebook's last cell: as many epochs again on the deeper network, from where run 2
ended; its loss table is what that cell shows). One
``np.random.RandomState(seed)`` draws, in the notebook's order, the data ``X``, every weight
matrix of run 1 in layer order, then the matrices inserted at the break. So a run with seed
``s`` gives the figures of the notebook's code run after ``np.random.seed(s)``. A
`TrainingObserver` sees every run and epoch on the way (the self-check and the lab's memory
tables are observers).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_lab import nn, optim
from tinygrad_lab.lab.rules import LabConfig, LabRun
from tinygrad_lab.lab.stress.network import build_network, insert_hidden_layers
from tinygrad_lab.tensor import Tensor

RUNS = ("run1", "run2", "run3")  # before the structural break, after it, and trained on
BREAK_BEFORE = "run2"  # the run the new layers are inserted before
SERIES_BUDGET = 10_000  # steps of the weight-gradient series kept; beyond, every k-th


def series_stride(epochs: int) -> int:
    """One step in how many the weight-gradient series keeps, for the runs of ``epochs``: 1
    up to `SERIES_BUDGET` steps, so the lab's 400 epochs keep every step."""
    return max(1, -(-len(RUNS) * epochs // SERIES_BUDGET))


def make_data(rng: Any, n_samples: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """``X ~ U(-2, 2)`` of shape (n, 3) and ``y = sin(x0) + 0.5·x1² − 0.8·x2`` of shape (n, 1)."""
    X = rng.uniform(-2, 2, (n_samples, 3))
    y = (np.sin(X[:, 0]) + 0.5 * (X[:, 1] ** 2) - 0.8 * X[:, 2]).reshape(-1, 1)
    return X, y


def draw_lab(run: LabRun) -> tuple[np.ndarray, np.ndarray, nn.Sequential, Any]:
    """The data and run 1's network, drawn as the notebook draws them: ``X`` first, then the
    weights in layer order. The generator is returned too, for the break's draws."""
    rng = np.random.RandomState(run.seed)
    X, y = make_data(rng, run.config.n_samples)
    return X, y, build_network(run.config, rng), rng


class TrainingObserver:
    """Sees the stress test as it trains; override the calls you need (each does nothing)."""

    def run_started(self, name: str, model: nn.Sequential, X: np.ndarray, y: np.ndarray) -> None:
        """Run ``name`` is about to train on ``X``, ``y``; ``model`` holds its initial weights
        (for run 2, the trained ones and the inserted layers' initial ones)."""

    def epoch_done(self, name: str, epoch: int, model: nn.Sequential, loss: float) -> None:
        """Epoch ``epoch``'s backward has run and its optimizer step has not: the parameters'
        ``.grad`` are this epoch's gradients, from the weights that gave ``loss``."""

    def run_finished(self, name: str, model: nn.Sequential) -> None:
        """Run ``name`` has trained; ``model`` holds its trained weights."""


@dataclass
class RunResult:
    """The figures of one training run (run 1; run 2 after the break; run 3, trained on)."""

    hidden_layers: int
    loss_history: list[float]
    losses: dict[int, float]  # the reported epochs' losses
    grad_norm_first: float  # ‖∇W‖ of the first weight matrix, last epoch (grads_W[0])
    grad_norm_last: float  # ‖∇W‖ of the matrix feeding the last hidden layer (grads_W[-2])
    gri: float | None  # grad_norm_first / grad_norm_last; None when undefined
    gri_undefined_reason: str | None
    r2: float  # 1 - final loss / loss of the mean predictor; NaN when training diverged
    layer_grad_norms: dict[str, dict[str, float]]  # label -> quantity -> value (last epoch)
    dead_fractions: dict[str, float]  # activation layer label -> dead fraction (last epoch)
    diverged_at: int | None = None  # first epoch whose loss was not finite

    @property
    def final_loss(self) -> float:
        """The last finite loss (NaN when the first was not)."""
        return self.loss_history[-1] if self.loss_history else math.nan

    @property
    def epochs_run(self) -> int:
        """Epochs whose forward pass ran: the finite ones, and the one that diverged."""
        return len(self.loss_history) + (self.diverged_at is not None)

    @property
    def dead_layers(self) -> list[str]:
        return [label for label, fraction in self.dead_fractions.items() if fraction >= 1.0]


@dataclass
class StressResult:
    """The three runs of the stress test for one `LabRun`. Plain figures: no model, no
    recorder."""

    run: LabRun
    mean_predictor_loss: float  # variance of y: the loss of always predicting mean(y)
    run1: RunResult
    run2: RunResult
    run3: RunResult
    # each Linear layer's ‖∇W‖ at every ``weight_grad_norm_series_stride``-th step of all
    # runs (from step 1), by its label in run 2 (None before a layer existed)
    weight_grad_norm_series: dict[str, list[float | None]] = field(default_factory=dict)
    weight_grad_norm_series_stride: int = 1

    def runs(self) -> dict[str, RunResult]:
        return {"run1": self.run1, "run2": self.run2, "run3": self.run3}

    @property
    def gri_change(self) -> float | None:
        """Run 2's GRI over run 1's; None when either is undefined (or run 1's is 0)."""
        gri1, gri2 = self.run1.gri, self.run2.gri
        return gri2 / gri1 if gri1 and gri2 is not None else None


EpochHook = Callable[[int, nn.Sequential, float], None]


def train(
    model: nn.Sequential,
    X: Tensor,
    y: Tensor,
    learning_rate: float,
    epochs: int,
    on_epoch: EpochHook | None = None,
) -> tuple[list[float], int | None]:
    """Full-batch gradient descent; the loss of an epoch is its forward pass, before the update.
    ``on_epoch(epoch, model, loss)`` runs after each backward, before the step. Stops at the
    first non-finite loss and returns its epoch, instead of training on NaN."""
    optimizer = optim.SGD(model.parameters(), lr=learning_rate)
    loss_fn = nn.MSELoss()
    history: list[float] = []
    # Overflow on the way to divergence is expected: the loss check below reports it as the
    # run's result, so NumPy's warnings would only repeat it (a screenful per epoch).
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, epochs + 1):
            loss = loss_fn(model(X), y)
            value = loss.item()
            if not math.isfinite(value):
                return history, epoch
            history.append(value)
            optimizer.zero_grad()
            loss.backward()
            if on_epoch is not None:
                on_epoch(epoch, model, value)
            optimizer.step()
    return history, None


def gradient_ratio_index(first: float, last: float) -> tuple[float | None, str | None]:
    """GRI = first / last, or ``(None, reason)`` when the ratio is undefined."""
    if not (math.isfinite(first) and math.isfinite(last)):
        return None, "a gradient norm is not finite (training diverged)"
    if last == 0 and first == 0:
        return None, "both gradient norms are exactly 0 (0/0): no gradient reached either layer"
    if last == 0:
        return None, (
            "the last hidden layer's weight gradient is exactly 0 (all its units dead), "
            "so the ratio divides by zero"
        )
    return first / last, None


def _summarise(
    recorder: nn.GradientRecorder,
    history: list[float],
    diverged_at: int | None,
    mean_loss: float,
    run: LabRun,
    hidden_layers: int,
) -> RunResult:
    """A run's figures from its loss history and the recorder's last complete step (a diverged
    epoch ran its forward pass only, so its figures are those of the epoch before, if any)."""
    last = recorder.at_step(recorder.step - (diverged_at is not None)) if history else {}
    if diverged_at is None:
        linear = [label for label in last if label.type == "Linear"]
        first_norm = last[linear[0]].get("weight_grad_norm", math.nan)
        last_norm = last[linear[-2]].get("weight_grad_norm", math.nan)
        gri, reason = gradient_ratio_index(first_norm, last_norm)
        r2 = 1 - history[-1] / mean_loss
    else:  # no last epoch's gradients and no trained network: the figures are undefined
        first_norm = last_norm = r2 = math.nan
        gri = None
        reason = (
            f"training diverged at epoch {diverged_at} (the loss stopped being finite), so "
            "there is no last epoch's gradient"
        )
    return RunResult(
        hidden_layers=hidden_layers,
        loss_history=history,
        losses={e: history[e - 1] for e in run.reported_epochs if e <= len(history)},
        grad_norm_first=first_norm,
        grad_norm_last=last_norm,
        gri=gri,
        gri_undefined_reason=reason,
        r2=r2,
        layer_grad_norms={
            label: {q: v for q, v in values.items() if q.endswith("grad_norm")}
            for label, values in last.items()
        },
        dead_fractions={
            label: values["dead_fraction"]
            for label, values in last.items()
            if "dead_fraction" in values
        },
        diverged_at=diverged_at,
    )


def _by_final_label(
    per_step: dict[int, list[float]], final_labels: list[str], steps: int, stride: int
) -> dict[str, list[float | None]]:
    """Each step's Linear-layer norms (in layer order) as one series per final layer label,
    one point every ``stride`` steps from step 1. Run 1's hidden layers keep their positions
    through the break and the output layer stays last, so each step's layers map onto the
    final ones that way; layers inserted at the break have None before it, and a step without
    a backward (a diverged epoch) has None throughout."""
    points = -(-steps // stride)  # ceil
    series: dict[str, list[float | None]] = {label: [None] * points for label in final_labels}
    for step, values in per_step.items():
        targets = final_labels[: len(values) - 1] + final_labels[-1:]
        for label, value in zip(targets, values, strict=True):
            series[label][(step - 1) // stride] = value
    return series


def _linear_norms(at_step: dict[str, dict[str, float]]) -> list[float]:
    return [v["weight_grad_norm"] for label, v in at_step.items() if label.type == "Linear"]


def weight_grad_norm_series(recorder: nn.GradientRecorder) -> dict[str, list[float | None]]:
    """Every Linear layer's ‖∇W‖ at every step a recorder kept, one series per layer (by its
    label at the last step, in layer order), across a structural break: grouped by layer, not
    by the positional label each step gave it."""
    per_step: dict[int, dict[str, dict[str, float]]] = {}
    for record in recorder.records:
        if record.quantity == "weight_grad_norm":
            per_step.setdefault(record.step, {})[record.layer] = {record.quantity: record.value}
    ordered = {
        step: _linear_norms(dict(sorted(layers.items(), key=lambda item: item[0].position)))
        for step, layers in per_step.items()
    }
    final = [label for label in recorder.at_step() if label.type == "Linear"]
    return _by_final_label(ordered, final, recorder.step, 1)


class _SeriesKeeper:
    """The weight-gradient norms of every ``stride``-th step, read from the recorder right
    after that step's backward: a fixed budget whatever the epochs."""

    def __init__(self, recorder: nn.GradientRecorder, stride: int) -> None:
        self.recorder, self.stride = recorder, stride
        self.per_step: dict[int, list[float]] = {}

    def epoch_done(self) -> None:
        step = self.recorder.step
        if (step - 1) % self.stride == 0:
            self.per_step[step] = _linear_norms(
                self.recorder.at_step(step, quantity="weight_grad_norm")
            )

    def series(self) -> dict[str, list[float | None]]:
        final = [label for label in self.recorder.at_step() if label.type == "Linear"]
        return _by_final_label(self.per_step, final, self.recorder.step, self.stride)


def _record_budget(model: nn.Sequential, config: LabConfig) -> int:
    """Recorder rows enough for the last two steps of a run, the only ones read back (the last
    complete step may be the one before a diverged forward): per layer its activation
    statistics and output gradient (at most 4 rows), plus one row a parameter."""
    rows = max(4 + len(list(layer.parameters())) for layer in model)
    return 2 * rows * (len(model) + 2 * config.added_layers)


def run_stress_test(run: LabRun, observer: TrainingObserver | None = None) -> StressResult:
    """Part A for one run: run 1, the structural break, run 2 and run 3, with a gradient
    recorder on the network throughout; ``observer`` sees each run and epoch. Memory does not
    grow with the epochs beyond the loss histories: the recorder keeps the last steps' rows
    only, and the gradient series one step in ``stride`` (`series_stride`)."""
    observer = observer or TrainingObserver()
    config = run.config
    X, y, model, rng = draw_lab(run)
    mean_loss = float(np.mean((y - y.mean()) ** 2))
    data = Tensor(X), Tensor(y)
    results: dict[str, RunResult] = {}
    stride = series_stride(run.epochs)
    with nn.GradientRecorder(model, max_records=_record_budget(model, config)) as recorder:
        keeper = _SeriesKeeper(recorder, stride)
        for name in RUNS:
            if name == BREAK_BEFORE:
                insert_hidden_layers(model, config, rng)
            observer.run_started(name, model, X, y)

            def hook(epoch: int, model: nn.Sequential, loss: float, name: str = name) -> None:
                keeper.epoch_done()
                observer.epoch_done(name, epoch, model, loss)

            history, diverged = train(model, *data, config.learning_rate, run.epochs, hook)
            hidden = sum(isinstance(layer, nn.Linear) for layer in model) - 1
            results[name] = _summarise(recorder, history, diverged, mean_loss, run, hidden)
            observer.run_finished(name, model)
        series = keeper.series()
    return StressResult(run, mean_loss, *(results[name] for name in RUNS), series, stride)
