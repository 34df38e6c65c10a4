"""Answers the lab asks for, computed: Q2's affine fold and the diagnosis of a run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinygrad_lab import nn
from tinygrad_lab.grad_mode import no_grad
from tinygrad_lab.lab.part_a import RunResult
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


def diagnose(run: RunResult) -> tuple[str, str]:
    """``(verdict, explanation)`` from a run's figures: dead network, exploding, vanishing or
    stable, plus whether the network learned more than the mean."""
    if run.diverged_at is not None:
        return "exploding", f"the loss stopped being finite at epoch {run.diverged_at}"
    dead = run.dead_layers
    r2_note = (
        f" R² = {run.r2:.3f}: the network predicts little more than the mean of y."
        if run.r2 < NO_LEARNING_R2
        else f" R² = {run.r2:.3f}."
    )
    if dead:
        return "dead network", (
            f"{len(dead)} activation layer(s) ({', '.join(dead)}) output 0 for every example, so "
            f"no gradient passes below them"
            + (f"; GRI is undefined: {run.gri_undefined_reason}" if run.gri is None else "")
            + "."
            + r2_note
        )
    if run.gri is None:
        return "dead network", f"GRI is undefined: {run.gri_undefined_reason}.{r2_note}"
    if run.gri < VANISHING_GRI:
        return "vanishing", (
            f"GRI = {run.gri:.3g} < {VANISHING_GRI}: the first layer gets under "
            f"a tenth of the last hidden layer's gradient.{r2_note}"
        )
    if run.gri > EXPLODING_GRI:
        return "exploding", (
            f"GRI = {run.gri:.3g} > {EXPLODING_GRI}: the gradient grows "
            f"tenfold on its way back to the first layer.{r2_note}"
        )
    return "stable", (
        f"GRI = {run.gri:.3g} is within [{VANISHING_GRI}, {EXPLODING_GRI}]: the "
        f"gradient reaches the first layer at a comparable size.{r2_note}"
    )
