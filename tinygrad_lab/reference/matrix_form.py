"""The course notebook's explicit matrix-form MLP, in plain NumPy: the oracle that autograd is
checked against. Lists of ``W`` (in, out) and ``b`` (1, out), exactly the notebook's arithmetic,
with each activation's ``act`` and ``act'`` from `formulas` (never from the ops):

    forward:  Z = A_prev @ W + b,  A = act(Z)          (the output layer is linear)
    backward: dA = 2 (ŷ - y) / (N · outputs)
              dZ = dA * act'(Z)  (dZ = dA at the output)
              dW = A_prevᵀ dZ,  db = Σ dZ,  dA = dZ Wᵀ
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lab.nn.activations import get_activation
from tinygrad_lab.reference.formulas import ArrayFn, formulas


def _per_layer(activation: str | list[str], hidden: int) -> list[tuple[ArrayFn, ArrayFn]]:
    """``(act, act')`` of each hidden layer, from one activation name or a list of names."""
    names = [activation] * hidden if isinstance(activation, str) else list(activation)
    if len(names) != hidden:
        raise ValueError(f"reference: {len(names)} activations for {hidden} hidden layers")
    return [formulas(get_activation(name)) for name in names]


def init_mlp(
    layer_sizes: list[int], init_range: float, rng: Any
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The notebook's initialisation: each W ~ U(-r, r) drawn in layer order, biases zero."""
    weights, biases = [], []
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:], strict=True):
        weights.append(rng.uniform(-init_range, init_range, (fan_in, fan_out)))
        biases.append(np.zeros((1, fan_out)))
    return weights, biases


def forward(
    X: np.ndarray, weights: list, biases: list, activation: str | list[str] = "relu"
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``(activations, Zs)``: activations[0] is X, activations[-1] the linear output.
    ``activation`` names every hidden layer's activation, or is a list of one name a layer."""
    acts = _per_layer(activation, len(weights) - 1)
    A = X
    activations, Zs = [A], []
    for i in range(len(weights) - 1):
        Z = A @ weights[i] + biases[i]
        Zs.append(Z)
        A = acts[i][0](Z)
        activations.append(A)
    Z_final = A @ weights[-1] + biases[-1]
    Zs.append(Z_final)
    activations.append(Z_final)
    return activations, Zs


def backward(
    activations: list,
    Zs: list,
    y_true: np.ndarray,
    weights: list,
    activation: str | list[str] = "relu",
) -> tuple[list, list, list]:
    """``(grads_W, grads_b, dZs)`` of the mean squared error, layer by layer from the output."""
    acts = _per_layer(activation, len(weights) - 1)
    grads_W: list[np.ndarray] = []
    grads_b: list[np.ndarray] = []
    dZs: list[np.ndarray] = []
    error = activations[-1] - y_true
    # The notebook writes len(y_true): the same as error.size for its single output, and
    # error.size keeps this the gradient of mean((ŷ - y)²) for several outputs too.
    dA = 2 * error / error.size
    for i in reversed(range(len(weights))):
        A_prev = activations[i]
        dZ = dA if i == len(weights) - 1 else dA * acts[i][1](Zs[i])
        grads_W.insert(0, A_prev.T @ dZ)
        grads_b.insert(0, np.sum(dZ, axis=0, keepdims=True))
        dZs.insert(0, dZ)
        dA = dZ @ weights[i].T
    return grads_W, grads_b, dZs


def mse(prediction: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((prediction - y) ** 2))


def train(
    X: np.ndarray,
    y: np.ndarray,
    weights: list,
    biases: list,
    learning_rate: float,
    epochs: int,
    activation: str | list[str] = "relu",
) -> tuple[list[float], list, list]:
    """Full-batch gradient descent in place, as the notebook's loop. Returns the loss of every
    epoch (before its update) and the last epoch's ``grads_W`` and ``grads_b``."""
    losses: list[float] = []
    grads_W: list = []
    grads_b: list = []
    for _ in range(epochs):
        activations, Zs = forward(X, weights, biases, activation)
        losses.append(mse(activations[-1], y))
        grads_W, grads_b, _ = backward(activations, Zs, y, weights, activation)
        for i in range(len(weights)):
            weights[i] -= learning_rate * grads_W[i]
            biases[i] -= learning_rate * grads_b[i]
    return losses, grads_W, grads_b
