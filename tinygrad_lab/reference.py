"""The course notebook's explicit matrix-form MLP, in plain NumPy: the oracle that autograd is
checked against. Lists of ``W`` (in, out) and ``b`` (1, out), exactly the notebook's arithmetic:

    forward:  Z = A_prev @ W + b,  A = act(Z)          (the output layer is linear)
    backward: dA = 2 (ŷ - y) / N
              dZ = dA * act'(Z)  (dZ = dA at the output)
              dW = A_prevᵀ dZ,  db = Σ dZ,  dA = dZ Wᵀ
"""

from __future__ import annotations

from typing import Any

import numpy as np

ACTIVATIONS = {
    "relu": (lambda z: np.maximum(0, z), lambda z: (z > 0).astype(float)),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "sigmoid": (
        lambda z: 1 / (1 + np.exp(-z)),
        lambda z: (1 / (1 + np.exp(-z))) * (1 - 1 / (1 + np.exp(-z))),
    ),
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
}


def _activation(name: str) -> tuple[Any, Any]:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"reference: unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}"
        ) from None


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
    X: np.ndarray, weights: list, biases: list, activation: str = "relu"
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``(activations, Zs)``: activations[0] is X, activations[-1] the linear output."""
    act, _ = _activation(activation)
    A = X
    activations, Zs = [A], []
    for i in range(len(weights) - 1):
        Z = A @ weights[i] + biases[i]
        Zs.append(Z)
        A = act(Z)
        activations.append(A)
    Z_final = A @ weights[-1] + biases[-1]
    Zs.append(Z_final)
    activations.append(Z_final)
    return activations, Zs


def backward(
    activations: list, Zs: list, y_true: np.ndarray, weights: list, activation: str = "relu"
) -> tuple[list, list, list]:
    """``(grads_W, grads_b, dZs)`` of the mean squared error, layer by layer from the output."""
    _, act_grad = _activation(activation)
    grads_W: list[np.ndarray] = []
    grads_b: list[np.ndarray] = []
    dZs: list[np.ndarray] = []
    error = activations[-1] - y_true
    dA = 2 * error / len(y_true)
    for i in reversed(range(len(weights))):
        A_prev = activations[i]
        dZ = dA if i == len(weights) - 1 else dA * act_grad(Zs[i])
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
    activation: str = "relu",
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
