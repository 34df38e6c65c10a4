"""Part A, the gradient-flow stress test (lab-spec §2), on tinygrad_lab's own layers.

One ``np.random.RandomState(seed)`` draws, in the notebook's order, the data ``X``, every weight
matrix of run 1 in layer order, then the matrices inserted at the break. So a run with seed ``s``
gives the figures of the notebook's code run after ``np.random.seed(s)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from tinygrad_lab import nn, optim
from tinygrad_lab.lab.network import build_network, insert_hidden_layers
from tinygrad_lab.lab.rules import LabConfig
from tinygrad_lab.tensor import Tensor


def make_data(rng: Any, n_samples: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """``X ~ U(-2, 2)`` of shape (n, 3) and ``y = sin(x0) + 0.5·x1² − 0.8·x2`` of shape (n, 1)."""
    X = rng.uniform(-2, 2, (n_samples, 3))
    y = (np.sin(X[:, 0]) + 0.5 * (X[:, 1] ** 2) - 0.8 * X[:, 2]).reshape(-1, 1)
    return X, y


def record_epochs(epochs: int) -> list[int]:
    """The epochs whose loss the lab reports: 1, 100 and the last (those that exist)."""
    return sorted({e for e in (1, 100, epochs) if 1 <= e <= epochs})


@dataclass
class RunResult:
    """The figures of one training run (run 1, or run 2 after the break)."""

    hidden_layers: int
    loss_history: list[float]
    losses: dict[int, float]  # the reported epochs' losses
    grad_norm_first: float  # ‖∇W‖ of the first weight matrix, last epoch (grads_W[0])
    grad_norm_last: float  # ‖∇W‖ of the matrix feeding the last hidden layer (grads_W[-2])
    gri: float | None  # grad_norm_first / grad_norm_last; None when undefined
    gri_undefined_reason: str | None
    r2: float  # 1 - final loss / loss of the mean predictor
    layer_grad_norms: dict[str, dict[str, float]]  # label -> quantity -> value (last epoch)
    dead_fractions: dict[str, float]  # activation layer label -> dead fraction (last epoch)
    diverged_at: int | None = None  # first epoch whose loss was not finite

    @property
    def final_loss(self) -> float:
        return self.loss_history[-1]

    @property
    def dead_layers(self) -> list[str]:
        return [label for label, fraction in self.dead_fractions.items() if fraction >= 1.0]


@dataclass
class StressResult:
    """Both runs of the stress test for one roll number and seed."""

    config: LabConfig = field(repr=False)
    seed: int
    epochs: int
    mean_predictor_loss: float  # variance of y: the loss of always predicting mean(y)
    run1: RunResult
    run2: RunResult
    model: nn.Sequential | None = field(default=None, repr=False, compare=False)
    recorder: nn.GradientRecorder | None = field(default=None, repr=False, compare=False)

    def runs(self) -> dict[str, RunResult]:
        return {"run1": self.run1, "run2": self.run2}

    def figures(self) -> dict[str, Any]:
        """Every reported figure as plain numbers (JSON-ready); undefined GRI is None."""
        out: dict[str, Any] = {
            "seed": self.seed,
            "epochs": self.epochs,
            "mean_predictor_loss": self.mean_predictor_loss,
        }
        for name, run in self.runs().items():
            figures = asdict(run)
            figures["losses"] = {str(k): v for k, v in run.losses.items()}
            figures["final_loss"] = run.final_loss
            figures["dead_layers"] = run.dead_layers
            out[name] = figures
        return out


def train(
    model: nn.Sequential, X: Tensor, y: Tensor, learning_rate: float, epochs: int
) -> tuple[list[float], int | None]:
    """Full-batch gradient descent; the loss of an epoch is its forward pass, before the update.
    Stops at the first non-finite loss and returns its epoch, instead of training on NaN."""
    optimizer = optim.SGD(model.parameters(), lr=learning_rate)
    loss_fn = nn.MSELoss()
    history: list[float] = []
    for epoch in range(1, epochs + 1):
        loss = loss_fn(model(X), y)
        value = loss.item()
        if not math.isfinite(value):
            return history, epoch
        history.append(value)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return history, None


def _summarise(
    model: nn.Sequential,
    recorder: nn.GradientRecorder,
    history: list[float],
    diverged_at: int | None,
    mean_loss: float,
    epochs: int,
    hidden: int,
) -> RunResult:
    last = recorder.at_step()
    linear = [label for label in last if label.endswith(":Linear")]
    first_norm = last[linear[0]].get("weight_grad_norm", math.nan)
    last_norm = last[linear[-2]].get("weight_grad_norm", math.nan)
    gri, reason = gradient_ratio_index(first_norm, last_norm)
    final = history[-1] if history else math.nan
    return RunResult(
        hidden_layers=hidden,
        loss_history=history,
        losses={e: history[e - 1] for e in record_epochs(epochs) if e <= len(history)},
        grad_norm_first=first_norm,
        grad_norm_last=last_norm,
        gri=gri,
        gri_undefined_reason=reason,
        r2=1 - final / mean_loss,
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


def run_stress_test(
    config: LabConfig,
    seed: int = 0,
    epochs: int | None = None,
    keep_model: bool = False,
    after_run: Callable[[str, nn.Sequential, Tensor], None] | None = None,
) -> StressResult:
    """Part A for one seed: run 1, the structural break, run 2. ``after_run(name, model, X)`` is
    called after each run's training (the lab measures memory there)."""
    epochs = config.epochs if epochs is None else epochs
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs must be a positive whole number, got {epochs}")
    rng = np.random.RandomState(seed)
    X, y = make_data(rng, config.n_samples)
    mean_loss = float(np.mean((y - y.mean()) ** 2))
    model = build_network(config, rng)
    recorder = nn.GradientRecorder(model)
    X_t, y_t = Tensor(X), Tensor(y)

    history, diverged = train(model, X_t, y_t, config.learning_rate, epochs)
    run1 = _summarise(model, recorder, history, diverged, mean_loss, epochs, config.hidden_layers)
    if after_run:
        after_run("run1", model, X_t)
    insert_hidden_layers(model, config, rng)
    history, diverged = train(model, X_t, y_t, config.learning_rate, epochs)
    hidden2 = config.hidden_layers + config.added_layers
    run2 = _summarise(model, recorder, history, diverged, mean_loss, epochs, hidden2)
    if after_run:
        after_run("run2", model, X_t)
    if not keep_model:
        recorder.detach()
    return StressResult(
        config,
        int(seed),
        int(epochs),
        mean_loss,
        run1,
        run2,
        model if keep_model else None,
        recorder if keep_model else None,
    )
