"""The framework checks itself against the course notebook's matrix-form backprop.

`compare(model, X, y)` runs one forward and backward through autograd and through the
matrix-form reference on copies of the same weights and tabulates, per Linear layer, the worst
absolute and relative difference of ``dW``, ``db`` and ``dZ`` (the gradient at the layer's
pre-activation). Relative differences are taken against the largest entry of the reference's
gradient, so a gradient that is tiny everywhere is not flattered or punished by its own scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_lab import nn
from tinygrad_lab.display import fixed_width_table, shape_text
from tinygrad_lab.reference import matrix_form
from tinygrad_lab.tensor import Tensor


def _activation_name(layer: nn.Module) -> str | None:
    """The registered name of an activation layer the reference's formulas fit, else None."""
    activation = nn.activation_of(layer)
    return activation.name if activation is not None and activation.fits(layer) else None


class NotAnMLPError(ValueError):
    """The model has a layer the matrix-form reference cannot express."""


@dataclass
class LayerDifference:
    layer: str  # "<index>:Linear"
    weight_shape: tuple[int, int]
    dW_abs: float  # noqa: N815  (the notebook's names)
    dW_rel: float  # noqa: N815
    db_abs: float
    db_rel: float
    dZ_abs: float  # noqa: N815
    dZ_rel: float  # noqa: N815

    @property
    def worst_rel(self) -> float:
        return max(self.dW_rel, self.db_rel, self.dZ_rel)


def mlp_structure(model: nn.Sequential) -> tuple[list[int], list[str]]:
    """Positions of the Linear layers and the activation after each hidden one; an error naming
    the first layer the reference cannot express."""
    linear, activations = [], []
    pending: str | None = None
    for index, layer in enumerate(model):
        if isinstance(layer, nn.Linear):
            if linear:
                activations.append(pending or "identity")
            linear.append(index)
            pending = None
        elif _activation_name(layer) and linear and pending is None:
            pending = _activation_name(layer)
        else:
            raise NotAnMLPError(
                f"compare: layer {index} ({type(layer).__name__}) cannot be expressed by the "
                "matrix-form reference, which handles Linear layers each followed by at most "
                f"one registered activation ({', '.join(nn.ACTIVATIONS)}), with a Linear "
                "layer last"
            )
    if not linear or pending is not None:
        raise NotAnMLPError("compare: the model must start and end with a Linear layer")
    return linear, activations


def _difference(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, float]:
    worst = float(np.max(np.abs(ours - theirs))) if ours.size else 0.0
    scale = float(np.max(np.abs(theirs))) if theirs.size else 0.0
    return worst, (worst / scale if scale > 0 else worst)


def _check_shapes(model: nn.Sequential, linear: list[int], X: np.ndarray, y: np.ndarray) -> None:
    first, last = model[linear[0]], model[linear[-1]]
    if (
        X.ndim != 2
        or y.ndim != 2
        or len(X) != len(y)
        or X.shape[1] != first.in_features
        or y.shape[1] != last.out_features
    ):
        raise ValueError(
            f"compare: X {X.shape} and y {y.shape} do not fit the model "
            f"({first.in_features} → {last.out_features}): expected X (N, {first.in_features}) "
            f"and y (N, {last.out_features})"
        )


def gradients(
    model: nn.Sequential, X: np.ndarray, y: np.ndarray, restore: bool = True
) -> tuple[float, list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Loss, then ``dW``, ``db`` and ``dZ`` of every Linear layer, by autograd (MSE loss).
    Parameter ``.grad`` is put back as it was unless ``restore`` is False (then it holds this
    backward's gradients, ready for an optimizer step)."""
    linear, _ = mlp_structure(model)
    _check_shapes(model, linear, X, y)
    outputs: dict[int, Tensor] = {}
    handles = [
        model[i].register_forward_hook(
            lambda m, inputs, out, i=i: outputs.__setitem__(i, out.retain_grad())
        )
        for i in linear
    ]
    saved = [(p, p.grad) for p in model.parameters()]
    try:
        for p, _ in saved:
            p.grad = None
        loss = nn.MSELoss()(model(Tensor(X)), Tensor(y))
        loss.backward()
        dW = [model[i].weight.grad for i in linear]
        db = [model[i].bias.grad for i in linear]
        dZ = [outputs[i].grad for i in linear]
    finally:
        for handle in handles:
            handle.remove()
        if restore:
            for p, grad in saved:
                p.grad = grad
    return loss.item(), dW, db, dZ


def reference_gradients(
    model: nn.Sequential, X: np.ndarray, y: np.ndarray
) -> tuple[float, list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """The same, by the notebook's matrix-form code on copies of the model's weights."""
    linear, activations = mlp_structure(model)
    _check_shapes(model, linear, X, y)
    weights = [model[i].weight.data.copy() for i in linear]
    biases = [_bias(model[i]).reshape(1, -1) for i in linear]
    acts, Zs = matrix_form.forward(X, weights, biases, activations)
    grads_W, grads_b, dZs = matrix_form.backward(acts, Zs, y, weights, activations)
    return matrix_form.mse(acts[-1], y), grads_W, [g.reshape(-1) for g in grads_b], dZs


def _bias(layer: nn.Linear) -> np.ndarray:
    if layer.bias is None:
        return np.zeros(layer.out_features)
    return layer.bias.data.copy()


def compare(model: nn.Sequential, X: Any, y: Any) -> list[LayerDifference]:
    """Per Linear layer, how far autograd's ``dW``, ``db`` and ``dZ`` are from the reference's."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    linear, _ = mlp_structure(model)
    _, dW, db, dZ = gradients(model, X, y)
    _, ref_dW, ref_db, ref_dZ = reference_gradients(model, X, y)
    rows = []
    for k, index in enumerate(linear):
        ours_db = db[k] if db[k] is not None else np.zeros_like(ref_db[k])
        rows.append(
            LayerDifference(
                f"{index}:Linear",
                tuple(model[index].weight.shape),
                *_difference(dW[k], ref_dW[k]),
                *_difference(ours_db, ref_db[k]),
                *_difference(dZ[k], ref_dZ[k]),
            )
        )
    return rows


def format_table(rows: list[LayerDifference]) -> str:
    """The comparison as a fixed-width table."""
    header = ["layer", "weight", "dW abs", "dW rel", "db abs", "db rel", "dZ abs", "dZ rel"]
    body = [
        [r.layer, shape_text(r.weight_shape)]
        + [f"{v:.2e}" for v in (r.dW_abs, r.dW_rel, r.db_abs, r.db_rel, r.dZ_abs, r.dZ_rel)]
        for r in rows
    ]
    return fixed_width_table(header, body)
