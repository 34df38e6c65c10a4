"""Answers the lab asks for, computed: Q2's affine fold and the diagnosis of a run."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinygrad_lab import nn
from tinygrad_lab.grad_mode import no_grad
from tinygrad_lab.lab.stress.part_a import RunResult
from tinygrad_lab.tensor import Tensor

# Diagnosis thresholds (documented in the README and the report).
VANISHING_GRI = 0.1  # first-layer gradient under a tenth of the last hidden layer's
EXPLODING_GRI = 10.0  # first-layer gradient over ten times the last hidden layer's
NO_LEARNING_R2 = 0.05  # explains under 5% of the variance: little better than predicting mean(y)
FOLD_TOLERANCE = 1e-9  # the folded map reproduces the network to rounding error


@dataclass
class AffineFold:
    """Q2: an MLP without activations is one affine map ``x ↦ x @ W + b``. When there is no
    finite map to show (a diverged network), the figures are None and ``absent_reason`` says
    why."""

    weight: np.ndarray | None
    bias: np.ndarray | None
    rank: int | None
    max_abs_difference: float | None  # between the network's output and the folded map's
    linear_layers: int  # how many Linear layers were folded into one
    absent_reason: str | None = None

    @classmethod
    def absent(cls, linear_layers: int, reason: str) -> AffineFold:
        return cls(None, None, None, None, linear_layers, reason)

    @property
    def effective_linear_layers(self) -> int | None:
        """1 when the single map reproduces the network (to rounding), else every layer."""
        if self.max_abs_difference is None:
            return None
        return 1 if self.max_abs_difference < FOLD_TOLERANCE else self.linear_layers


def fold_linear(model: nn.Sequential) -> tuple[np.ndarray, np.ndarray]:
    """Multiply out a Sequential of Linear and Identity layers: W = W1·W2·…, b folded along."""
    weight, bias = None, None
    for layer in model:
        if isinstance(layer, nn.Identity):
            continue
        if not isinstance(layer, nn.Linear):
            raise TypeError(
                f"fold_linear: {type(layer).__name__} is not linear; only Linear and "
                "Identity layers fold into one affine map"
            )
        w = layer.weight.data
        b = layer.bias.data if layer.bias is not None else np.zeros(w.shape[1])
        weight, bias = (w.copy(), b.copy()) if weight is None else (weight @ w, bias @ w + b)
    if weight is None:
        raise ValueError("fold_linear: the model has no Linear layer")
    return weight, bias


def affine_fold(model: nn.Sequential, X: np.ndarray) -> AffineFold:
    """Q2 by experiment: ``model`` with every activation replaced by Identity (same Linear layers,
    same weights) against the single folded map, on inputs ``X``."""
    linear_only = nn.Sequential(
        *[layer if isinstance(layer, nn.Linear) else nn.Identity() for layer in model]
    )
    layers = sum(isinstance(layer, nn.Linear) for layer in model)
    with np.errstate(over="ignore", invalid="ignore"):  # a non-finite map is reported below
        weight, bias = fold_linear(linear_only)
        with no_grad():
            network = linear_only(Tensor(X)).data
        folded = X @ weight + bias
    if not (np.isfinite(weight).all() and np.isfinite(bias).all() and np.isfinite(network).all()):
        # the rank of a map with inf or NaN entries does not exist (its SVD fails)
        return AffineFold.absent(
            layers,
            "the weights multiplied out are not finite (they overflow), so there is no "
            "affine map to show",
        )
    return AffineFold(
        weight,
        bias,
        int(np.linalg.matrix_rank(weight)),
        float(np.max(np.abs(network - folded))),
        layers,
    )


def shown_true(value: float, holds: Callable[[float], bool]) -> str:
    """``value`` with the fewest significant digits (at least 3) for which ``holds`` is still
    true of the number as printed, so a comparison in the text is true as read: "GRI =
    10.01 > 10", never "GRI = 10 > 10" for 10.0068."""
    for digits in range(3, 18):
        text = f"{value:.{digits}g}"
        if holds(float(text)):
            return text
    return repr(value)


def compared(value: float, relation: str, threshold: float) -> str:
    """``value`` printed so that ``value < threshold`` (or ``>``) reads true."""
    if relation == "<":
        return shown_true(value, lambda v: v < threshold)
    return shown_true(value, lambda v: v > threshold)


def _within(value: float, low: float, high: float) -> str:
    """``value`` in [low, high] printed inside the range, on a bound only when it is one."""
    return shown_true(value, lambda v: low < v < high or (v == value and low <= v <= high))


def gradient_verdict(run: RunResult) -> tuple[str, str]:
    """What the gradient figures say: ``("dead network" | "vanishing" | "exploding" |
    "stable", sentence)``, for a run that trained to its last epoch."""
    dead = run.dead_layers
    if dead:
        undefined = f"; GRI is undefined: {run.gri_undefined_reason}" if run.gri is None else ""
        return "dead network", (
            f"{len(dead)} activation layer(s) ({', '.join(dead)}) output 0 for every example, so "
            f"no gradient passes below them{undefined}."
        )
    if run.gri is None:
        overflowed = not (math.isfinite(run.grad_norm_first) and math.isfinite(run.grad_norm_last))
        return "exploding" if overflowed else "dead network", (
            f"GRI is undefined: {run.gri_undefined_reason}."
        )
    if run.gri < VANISHING_GRI:
        return "vanishing", (
            f"GRI = {compared(run.gri, '<', VANISHING_GRI)} < {VANISHING_GRI:g}: the first layer "
            "gets under a tenth of the last hidden layer's gradient."
        )
    if run.gri > EXPLODING_GRI:
        return "exploding", (
            f"GRI = {compared(run.gri, '>', EXPLODING_GRI)} > {EXPLODING_GRI:g}: the gradient "
            "grows over tenfold on its way back to the first layer."
        )
    return "stable", (
        f"GRI = {_within(run.gri, VANISHING_GRI, EXPLODING_GRI)} is within "
        f"[{VANISHING_GRI:g}, {EXPLODING_GRI:g}]: the gradient "
        "reaches the first layer at a comparable size."
    )


def learned(run: RunResult) -> bool:
    """Whether the network explains more of y's variance than the threshold (R² ≥ 0.05)."""
    return run.r2 >= NO_LEARNING_R2


def _learning(run: RunResult) -> str:
    """What R² says, as a clause: learned, predicts little more than the mean, or worse."""
    if run.r2 < 0:
        return (
            f"the network did not learn: R² = {compared(run.r2, '<', 0)} < 0, it predicts worse "
            "than the mean of y"
        )
    if run.r2 < NO_LEARNING_R2:
        shown = compared(run.r2, "<", NO_LEARNING_R2)
        rounded = " ≈ 0" if abs(run.r2) < 0.005 else ""
        return (
            f"the network did not learn: R² = {shown}{rounded} < {NO_LEARNING_R2:g}, it predicts "
            "little more than the mean of y"
        )
    return f"the network learned: R² = {run.r2:.3g}"


GRADIENT_HEADLINES = {
    "dead network": "dead network",
    "vanishing": "gradient vanishing",
    "exploding": "gradient ratio exploding",
    "stable": "gradient ratio stable",
}


def diagnose(run: RunResult) -> tuple[str, str]:
    """``(verdict, explanation)`` from a run's figures. The verdict is "exploding" for a loss
    that stopped being finite; otherwise the gradient's ("dead network", "vanishing",
    "exploding", "stable"), except that a stable ratio in a network that did not learn
    (R² < 0.05) is "not learning". The explanation opens with both halves: the gradient ratio,
    and whether the network learned."""
    if run.diverged_at is not None:
        return "exploding", (
            f"The loss stopped being finite at epoch {run.diverged_at}: training diverged, so "
            "the last epoch's GRI and R² are undefined."
        )
    gradient, detail = gradient_verdict(run)
    did_learn = learned(run)
    verdict = "not learning" if gradient == "stable" and not did_learn else gradient
    joint = ("and" if did_learn else "but") if gradient == "stable" else "and"
    if gradient != "stable" and did_learn:
        joint = "though"
    headline = f"{GRADIENT_HEADLINES[gradient]}, {joint} {_learning(run)}"
    return verdict, f"{headline[0].upper()}{headline[1:]}. {detail}"
